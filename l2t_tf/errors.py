"""The one error type users see: a one-line message naming the problem and the fix."""
import functools
import sys
from typing import Callable


class UserError(Exception):
  """Bad input from the user (config, path, checkpoint, data).

  `main.py` prints the message as a single line and exits non-zero; nothing in
  the workdir has been written when it is raised during set-up.
  """

  def __init__(self, problem: str, fix: str):
    super().__init__(f"{problem}. Fix: {fix}")


def one_line_errors(main: Callable, then: str = "") -> Callable:
  """A command-line `main` whose bad input and filesystem errors (a disk
  full, a path without permission) end as one `error:` line on stderr and
  exit code 2, never a traceback. `then`: what to do after the fix (main.py:
  rerun the same command, which resumes)."""
  @functools.wraps(main)
  def wrapped(*args, **kwargs):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    try:
      return main(*args, **kwargs)
    except UserError as e:
      problem = str(e)
    except OSError as e:
      problem = (f"{e.filename or 'a file'}: {e.strerror or e}. Fix: check the "
                 f"path, its permissions and the free space{then}")
    except tf.errors.OpError as e:
      problem = (f"{e.message.splitlines()[0]}. Fix: check the path, its "
                 f"permissions and the free space{then}")
    print(f"error: {problem}", file=sys.stderr)
    sys.exit(2)
  return wrapped
