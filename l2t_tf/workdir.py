"""The workdir: checked before anything is written, never overwritten silently."""
import json
import os
import tempfile

from l2t_tf.errors import UserError

RESULTS = "results.json"


def prepare(workdir: str) -> None:
  """Creates `workdir` if needed and checks it is writable and not a finished run."""
  if not workdir:
    raise UserError("--workdir is empty", "pass --workdir=DIR")
  if os.path.exists(os.path.join(workdir, RESULTS)):
    raise UserError(f"{workdir} already holds a finished run ({RESULTS})",
                    "choose a new --workdir (existing results are never "
                    "overwritten)")
  try:
    os.makedirs(workdir, exist_ok=True)
    with tempfile.TemporaryFile(dir=workdir):
      pass
  except OSError as e:
    raise UserError(f"workdir {workdir} is not writable ({e.strerror})",
                    "pass a --workdir you can write to") from None


def write_json(workdir: str, name: str, payload: dict) -> str:
  """Writes JSON atomically (temporary file, then rename)."""
  path = os.path.join(workdir, name)
  with tempfile.NamedTemporaryFile("w", dir=workdir, delete=False,
                                   suffix=".tmp") as f:
    json.dump(payload, f, indent=2, sort_keys=True)
  os.replace(f.name, path)
  return path
