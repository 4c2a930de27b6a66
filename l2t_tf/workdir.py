"""The workdir: checked before anything is written, never overwritten silently."""
import contextlib
import json
import os
import re
import shutil
import socket
import time

from tensorflow import errors as tf_errors

from l2t_tf import dotted, storage
from l2t_tf.errors import UserError

RESULTS = "results.json"
LOCK = ".lock"  # {"pid", "host", "started"} of the process writing the workdir
CONFIG = "config.json"
META_INIT = "meta_init.json"  # lambda and w statistics at step 0
META_TRACE = "meta_trace.json"  # per epoch and pair: lambda, meta-gradients
POLICY_TRACE = "policy_trace.json"  # L2TL, per epoch: E[lambda], reward, signal
# Config fields a resumed run may change: they do not change what is computed.
RESUMABLE_CHANGES = ("train.verbose", "train.jit_compile", "train.strategy",
                     "export.", "checkpoint.keep", "grid.")


# Config fields renamed since 0.1 (old dotted name -> new): a saved config.json
# that has the old name is read as if it had the new one.
RENAMED = {"data.source": "data.loader",
           "l2tl.source_data.source": "l2tl.source_data.loader",
           "l2tl.policy": "l2tl.class_weights"}


def _asset_name(path):
  """An absolute path into an installed l2t_tf/assets (any checkout, keeping a
  decoy:/noisy: prefix) as its location-free `assets:NAME`; else unchanged."""
  if not isinstance(path, str):
    return path
  match = re.fullmatch(r"((?:[a-z]+:)*)(/.*)?/l2t_tf/assets/([^/]+)", path)
  return f"{match.group(1)}assets:{match.group(3)}" if match else path


def require(workdir: str, name: str, keys) -> dict:
  """The JSON object `name` of a finished run, refused in one line when it is
  missing or lacks one of `keys` (a file edited by hand, or cut short)."""
  value = read_json(workdir, name)
  if value is None:
    raise UserError(f"{workdir} has no {name}, so it holds no finished run",
                    "pass the --workdir of a run that finished training")
  missing = [key for key in keys if key not in value]
  if missing:
    raise UserError(f"{os.path.join(workdir, name)} lacks '{missing[0]}' (edited "
                    "by hand, or written by another program?)",
                    "restore the file, or rerun the training in a new --workdir")
  return value


def upgrade_config(config: dict) -> dict:
  """A saved config with RENAMED fields under their new names and shipped
  sources under their `assets:` names (a copy)."""
  config = json.loads(json.dumps(config))
  transfer = config.get("transfer")
  if isinstance(transfer, dict) and isinstance(transfer.get("source_paths"), list):
    transfer["source_paths"] = [_asset_name(p) for p in transfer["source_paths"]]
  for old, new in RENAMED.items():
    try:
      node, leaf = dotted.locate(config, old)
    except (KeyError, TypeError):
      continue
    if isinstance(node, dict) and leaf in node:
      node[dotted.locate(config, new)[1]] = node.pop(leaf)
  return config




def config_differences(saved: dict, current: dict, unused=()) -> list[str]:
  """Fields (dotted) whose values differ, ignoring RESUMABLE_CHANGES and the
  `unused` prefixes (the sections the run's method never reads:
  `methods.Method.unused_sections`).

  A field the saved config lacks was added to l2t_tf after that run, whose
  default reproduces what the run did, so it is no difference.
  """
  saved, current = dotted.flatten(upgrade_config(saved)), dotted.flatten(current)
  return sorted(k for k in saved
                if saved[k] != current.get(k)
                and not k.startswith(RESUMABLE_CHANGES + tuple(unused)))


@contextlib.contextmanager
def lock(workdir: str):
  """Holds `<workdir>/.lock` while this process writes the run; a second is refused.

  A lock left by a process that is gone (killed) on this machine is taken
  over; one from another machine is trusted, and the error says how to clear it.
  """
  if not workdir:
    raise UserError("--workdir is empty", "pass --workdir=DIR")
  path = os.path.join(storage.expand(workdir), LOCK)
  mine = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
  try:
    storage.makedirs(os.path.dirname(path))
    for attempt in range(2):
      if storage.create_exclusive(path, json.dumps(mine)):
        break
      holder = _lock_holder(path)
      if attempt or _alive(holder):
        raise UserError(
            f"{workdir} is in use by process {holder.get('pid')} on "
            f"{holder.get('host')} (since {time.ctime(holder.get('started', 0))})",
            "wait for that run to end, or pass another --workdir (delete "
            f"{path} only if that process is gone)")
      storage.remove(path)  # its process is gone: a stale lock
  except (OSError, tf_errors.OpError) as e:
    raise UserError(f"workdir {workdir} is not writable ({_reason(e)})",
                    "pass a --workdir you can write to") from None
  try:
    yield
  finally:
    if _lock_holder(path) == mine:
      storage.remove(path)


def _reason(error: Exception) -> str:
  """An OSError's or TensorFlow filesystem error's message, without a traceback."""
  return getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)


def _lock_holder(path: str) -> dict:
  try:
    return json.loads(storage.read_text(path))
  except (OSError, ValueError, tf_errors.OpError):
    return {}  # unreadable or half-written: treated as held by nobody alive


def _alive(holder: dict) -> bool:
  """Whether the lock's process still runs: on this machine, a process with
  its pid that started no later than the lock did (a pid the system has
  since given to another process does not hold the lock)."""
  if not holder or holder.get("host") != socket.gethostname():
    return bool(holder)  # another machine's process cannot be checked here
  try:
    pid = int(holder["pid"])
  except (ValueError, KeyError, TypeError):
    return False  # no process: a damaged lock
  if pid <= 0:  # os.kill would signal a process group, or every process
    return False
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except (PermissionError, OSError):
    pass  # it exists, as another user's process
  started = _process_start(pid)
  locked = holder.get("started")
  if started is not None and isinstance(locked, (int, float)):
    return started <= locked + 1.0  # clock ticks: 10 ms; a second of slack
  return True


def _process_start(pid: int) -> float | None:
  """When process `pid` started (seconds since the epoch), where /proc says."""
  try:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
      fields = f.read().rsplit(")", 1)[1].split()
    with open("/proc/stat", encoding="ascii") as f:
      boot = next(float(l.split()[1]) for l in f if l.startswith("btime"))
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
  except (OSError, ValueError, IndexError, StopIteration):
    return None


def remove_leftovers(workdir: str) -> list[str]:
  """Deletes the `.tmp-*` files and folders a killed write left in `workdir`.

  Call it only while holding `lock(workdir)`: then no other process of this
  run can be writing them. Returns what it removed.
  """
  removed = (storage.find(workdir, ".tmp-*")  # results.json, traces
             + storage.find(workdir, "*", ".tmp-*")  # checkpoints, LATEST, plots
             + storage.find(workdir, "export", "*", ".tmp-*"))
  # Where folders are uploaded (see storage.py), an export version without
  # its saved_model.pb is one whose upload was cut short.
  removed += [p for p in storage.find(workdir, "export", "*", "*")
              if os.path.basename(p).isdigit()
              and not storage.exists(os.path.join(p, "saved_model.pb"))]
  for path in sorted(removed):
    storage.rmtree(path)
  return sorted(removed)


def finished(run_dir: str, config_json: str, unused=()) -> dict | None:
  """The results of a finished run in `run_dir`, or None when it has not finished.

  Refuses a finished run whose config differs from `config_json` (outside
  RESUMABLE_CHANGES and the `unused` config sections of its method): a grid
  or comparison must not report a stale result.
  """
  results = read_json(run_dir, RESULTS)
  if results is None:
    return None
  saved = read_json(run_dir, CONFIG)
  if saved is not None:
    differences = config_differences(saved, json.loads(config_json), unused)
    if differences:
      raise UserError(f"{run_dir} holds a finished run with another config "
                      f"(differs in {', '.join(differences[:5])})",
                      "pass a new --workdir, or rerun the config it ran "
                      f"({os.path.join(run_dir, CONFIG)})")
  return results


def prepare(workdir: str, config_json: str = "{}", required_bytes: int = 0,
            unused=()) -> None:
  """Creates `workdir` and checks it, and the saved config if there is one.

  Refuses a finished run, an unwritable folder, a disk with less than
  `required_bytes` free, and a workdir whose checkpoints came from another config.
  """
  if not workdir:
    raise UserError("--workdir is empty", "pass --workdir=DIR")
  if storage.exists(os.path.join(workdir, RESULTS)):
    raise UserError(f"{workdir} already holds a finished run ({RESULTS})",
                    "choose a new --workdir (existing results are never "
                    "overwritten)")
  probe = os.path.join(workdir, f".write-test-{os.getpid()}")
  try:
    storage.makedirs(workdir)
    storage.write(probe, "")
    storage.remove(probe)
  except (OSError, tf_errors.OpError) as e:
    raise UserError(f"workdir {workdir} is not writable ({_reason(e)})",
                    "pass a --workdir you can write to") from None
  free = shutil.disk_usage(workdir).free if storage.is_local(workdir) else None
  if free is not None and free < required_bytes:
    raise UserError(f"only {free / 2**20:.0f} MiB free under {workdir}, this run "
                    f"needs about {required_bytes / 2**20:.0f} MiB for checkpoints "
                    "and models", "free disk space or pass another --workdir")
  current = json.loads(config_json)
  path = os.path.join(workdir, CONFIG)
  saved = read_json(workdir, CONFIG)
  if saved is not None:
    differences = config_differences(saved, current, unused)
    if differences:
      raise UserError(f"{workdir} holds a run with another config "
                      f"(differs in {', '.join(differences[:5])})",
                      f"rerun with the same config to resume (see {path}) or "
                      "pass a new --workdir")
  elif storage.find(workdir, "checkpoints", "ckpt-*"):
    raise UserError(f"{workdir} holds checkpoints but no {CONFIG}, so the config "
                    "they were trained with cannot be checked",
                    f"put the run's {CONFIG} back, or pass a new --workdir")



def record_config(workdir: str, config_json: str) -> None:
  """Saves the run's config (once), after a resume has restored successfully."""
  if not storage.exists(os.path.join(workdir, CONFIG)):
    write_json(workdir, CONFIG, json.loads(config_json))


def write_json(workdir: str, name: str, payload: dict) -> str:
  """Writes JSON as one step (see storage.write)."""
  path = os.path.join(workdir, name)
  storage.write(path, json.dumps(payload, indent=2, sort_keys=True))
  return path


def read_json(workdir: str, name: str) -> dict | None:
  """The JSON file `name` in workdir, or None when there is none."""
  path = os.path.join(workdir, name)
  if not storage.exists(path):
    return None
  try:
    value = json.loads(storage.read_text(path))
  except ValueError:  # truncated or edited by hand
    raise UserError(f"{path} is not valid JSON (truncated?)",
                    "restore it, or start the run in a new --workdir") from None
  if not isinstance(value, dict):  # every file a run writes holds one object
    raise UserError(f"{path} holds a JSON {type(value).__name__}, not the object "
                    "a run writes (edited by hand?)",
                    "restore it, or start the run in a new --workdir")
  return value
