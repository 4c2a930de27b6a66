"""The workdir: checked before anything is written, never overwritten silently."""
import json
import os
import shutil
import tempfile

from l2t_tf.errors import UserError

RESULTS = "results.json"
CONFIG = "config.json"
META_INIT = "meta_init.json"  # lambda and w statistics at step 0
# Config fields a resumed run may change: they do not change what is computed.
RESUMABLE_CHANGES = ("train.verbose", "train.jit_compile", "train.strategy",
                     "export.", "checkpoint.keep", "grid.")


def _flatten(tree: dict, prefix: str = "") -> dict:
  flat = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      flat.update(_flatten(value, f"{prefix}{key}."))
    else:
      flat[f"{prefix}{key}"] = value
  return flat


def config_differences(saved: dict, current: dict) -> list[str]:
  """Fields (dotted) whose values differ, ignoring RESUMABLE_CHANGES."""
  saved, current = _flatten(saved), _flatten(current)
  return sorted(k for k in set(saved) | set(current)
                if saved.get(k) != current.get(k)
                and not k.startswith(RESUMABLE_CHANGES))


def prepare(workdir: str, config_json: str = "{}", required_bytes: int = 0) -> None:
  """Creates `workdir` and checks it, and the saved config if there is one.

  Refuses a finished run, an unwritable folder, a disk with less than
  `required_bytes` free, and a workdir whose checkpoints came from another config.
  """
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
  free = shutil.disk_usage(workdir).free
  if free < required_bytes:
    raise UserError(f"only {free / 2**20:.0f} MiB free under {workdir}, this run "
                    f"needs about {required_bytes / 2**20:.0f} MiB for checkpoints "
                    "and models", "free disk space or pass another --workdir")
  current = json.loads(config_json)
  path = os.path.join(workdir, CONFIG)
  if os.path.exists(path):
    with open(path) as f:
      differences = config_differences(json.load(f), current)
    if differences:
      raise UserError(f"{workdir} holds a run with another config "
                      f"(differs in {', '.join(differences[:5])})",
                      f"rerun with the same config to resume (see {path}) or "
                      "pass a new --workdir")



def record_config(workdir: str, config_json: str) -> None:
  """Saves the run's config (once), after a resume has restored successfully."""
  if not os.path.exists(os.path.join(workdir, CONFIG)):
    write_json(workdir, CONFIG, json.loads(config_json))


def write_json(workdir: str, name: str, payload: dict) -> str:
  """Writes JSON atomically (temporary file, then rename)."""
  path = os.path.join(workdir, name)
  with tempfile.NamedTemporaryFile("w", dir=workdir, delete=False,
                                   suffix=".tmp") as f:
    json.dump(payload, f, indent=2, sort_keys=True)
  os.replace(f.name, path)
  return path


def read_json(workdir: str, name: str) -> dict | None:
  """The JSON file `name` in workdir, or None when there is none."""
  path = os.path.join(workdir, name)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)
