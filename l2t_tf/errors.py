"""The one error type users see: a one-line message naming the problem and the fix."""


class UserError(Exception):
  """Bad input from the user (config, path, checkpoint, data).

  `main.py` prints the message as a single line and exits non-zero; nothing in
  the workdir has been written when it is raised during set-up.
  """

  def __init__(self, problem: str, fix: str):
    super().__init__(f"{problem}. Fix: {fix}")
