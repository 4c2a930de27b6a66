"""A readable console: TensorFlow's start-up lines and INFO logs off unless asked for.

TensorFlow prints them (oneDNN, "Could not find cuda drivers", "failed call
to cuInit", ...) from C++ before its logging is set up, so
TF_CPP_MIN_LOG_LEVEL cannot stop them. `quiet_tensorflow` mutes the stderr
file descriptor for the import and the first device query only, and drops
the INFO lines that TensorFlow and Keras log through absl (a dozen per
SavedModel export). Our own INFO lines (progress of grids, resumes) stay.
Set L2T_TF_VERBOSE=1 to see everything.
"""
import contextlib
import os
import sys
import logging
import tempfile

from absl import logging as absl_logging

VERBOSE_ENV = "L2T_TF_VERBOSE"


@contextlib.contextmanager
def _muted_stderr():
  """Sends file descriptor 2 (C++ and Python alike) to a temporary file."""
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as sink:
    os.dup2(sink.fileno(), 2)
    try:
      yield
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)


def quiet_tensorflow() -> None:
  """Imports TensorFlow quietly and keeps its Python loggers at WARNING."""
  if os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
    return
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  with _muted_stderr():
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.config.list_physical_devices()  # the GPU probe prints here
  tf.get_logger().setLevel("WARNING")
  absl_logging.get_absl_handler().addFilter(_FrameworkInfo())


class _Plain(logging.Formatter):
  """Info lines as they are; warnings and worse named so (no absl prefix of
  date, thread id and source line, which L2T_TF_VERBOSE=1 brings back)."""

  def format(self, record: logging.LogRecord) -> str:
    message = record.getMessage()
    if record.levelno >= logging.WARNING:
      return f"{record.levelname.lower()}: {message}"
    return message


def plain_logs() -> None:
  """Our log lines without absl's prefix (unless L2T_TF_VERBOSE is set)."""
  if os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
    return
  absl_logging.get_absl_handler().setFormatter(_Plain())


class _FrameworkInfo(logging.Filter):
  """Drops records below WARNING that come from TensorFlow's, TFDS's or Keras's files."""
  FRAMEWORKS = (f"{os.sep}tensorflow{os.sep}", f"{os.sep}keras{os.sep}",
                f"{os.sep}tensorflow_datasets{os.sep}")

  def filter(self, record: logging.LogRecord) -> bool:
    return (record.levelno >= logging.WARNING
            or not any(f in record.pathname for f in self.FRAMEWORKS))
