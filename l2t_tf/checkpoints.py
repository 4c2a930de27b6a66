"""Crash-safe training checkpoints: each save is a whole folder, published by renames.

Layout under `<workdir>/checkpoints/`:
  ckpt-00000120/variables.npz   every variable training needs (weights,
                                regressors, meta-networks, BatchNorm statistics,
                                both optimizers' slots and step counters, and
                                the running metric sums), stored under names
  ckpt-00000120/state.json      epoch, step in the epoch, best-on-validation
                                record, per-epoch history, variable names
  LATEST                        the name of the newest checkpoint, for people

A save publishes the folder whole (storage.publish_folder: on a local disk a
fsynced hidden folder renamed into place; on an object store such as gs://,
with no rename, an upload with state.json last), so a `ckpt-*` folder that
holds state.json is complete, and only then rewrites LATEST. A resume takes
the newest complete checkpoint whether or not LATEST names it (a lost or
stale LATEST never discards work), and a complete checkpoint is never
overwritten. Variables are restored by name: a model whose variables differ
in name or shape from the checkpoint's is refused before any assignment. The
data order needs no state of its own: the training stream is a pure function
of (seed, epoch, step).
"""
import io
import json
import os
import re
import zipfile

import numpy as np
from tensorflow import errors as tf_errors

from l2t_tf import storage
from l2t_tf.errors import UserError
from l2t_tf import hooks

FOLDER = "checkpoints"
LATEST = "LATEST"
_NAME = re.compile(r"ckpt-\d{8}")


def training_variables(model) -> list:
  """Everything `fit` changes, in a fixed order (model weights, optimizers, metrics)."""
  groups = [model.weights, model.optimizer.variables,
            hooks.of(model).extra_state(), model.metrics_variables]
  seen, variables = set(), []
  for variable in (v for group in groups for v in group):
    if id(variable) not in seen:
      seen.add(id(variable))
      variables.append(variable)
  return variables


def read_values(variables) -> list[np.ndarray]:
  """Current values. Under a multi-worker strategy every worker must call this:
  reading an on-read-synchronised variable (a metric sum) is a collective op."""
  return [np.asarray(v.numpy()) for v in variables]


class Checkpointer:
  """Saves and restores `training_variables` plus a JSON state, keeping `keep`."""

  def __init__(self, workdir: str, keep: int = 2):
    self.directory = os.path.join(workdir, FOLDER)
    self.keep = max(1, keep)

  def latest(self) -> str | None:
    """Path of the newest complete checkpoint, or None.

    LATEST is checked (it must name a complete checkpoint) but a newer
    complete folder wins: it was published, only the pointer was not.
    """
    complete = self.complete()
    pointer = os.path.join(self.directory, LATEST)
    if storage.exists(pointer):
      name = storage.read_text(pointer).strip()
      if not _NAME.fullmatch(name) or name not in complete:
        raise UserError(
            f"{pointer} names '{name}', which is not a complete checkpoint here",
            f"delete the file {pointer} (only that file) to resume from the "
            "newest complete checkpoint, or pass a new --workdir")
    return os.path.join(self.directory, complete[-1]) if complete else None

  def complete(self) -> list[str]:
    """Names of the complete checkpoints (their state.json written), oldest first."""
    return [os.path.basename(path) for path in storage.find(self.directory, "ckpt-*")
            if _NAME.fullmatch(os.path.basename(path))
            and storage.exists(os.path.join(path, "state.json"))]

  def save(self, variables, state: dict, global_step: int, values=None) -> str:
    """Writes checkpoint `ckpt-<global_step>` and points LATEST at it.

    `values` (default: read from `variables`) lets every worker of a cluster
    read the variables, which may need all of them, while only the chief saves.
    """
    if values is None:
      values = read_values(variables)
    name = f"ckpt-{global_step:08d}"
    final = os.path.join(self.directory, name)
    names = unique_names(v.path for v in variables)
    arrays = {f"v{i:05d}": value for i, value in enumerate(values)}
    state = dict(state, shapes=[list(a.shape) for a in arrays.values()],
                 names=names)

    def fill(folder: str) -> None:
      np.savez(os.path.join(folder, "variables.npz"), **arrays)
      with open(os.path.join(folder, "state.json"), "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)

    try:
      if name not in self.complete():  # a complete one is never overwritten
        storage.rmtree(final)  # an upload cut short (no state.json)
        storage.publish_folder(final, fill, last=("state.json",))
      storage.write(os.path.join(self.directory, LATEST), name + "\n")
    except (OSError, tf_errors.OpError) as e:
      raise UserError(f"cannot write checkpoint {final} "
                      f"({getattr(e, 'strerror', None) or e}); the previous "
                      "checkpoint is kept",
                      "free disk space or pass another --workdir") from None
    self._prune(name)
    return final

  def _prune(self, newest: str) -> None:
    names = sorted(n for n in storage.listdir(self.directory)
                   if n.startswith("ckpt-"))
    for name in names[:-self.keep]:
      if name != newest:
        storage.rmtree(os.path.join(self.directory, name))

  def restore(self, variables, path: str, optional=(), extra_ok: bool = False) -> dict:
    """Assigns the checkpoint at `path` to `variables` by name; returns its state.

    All or nothing: names and shapes are checked before the first assignment.
    `optional`: variables a checkpoint of an older version may lack, as a
    group; they are left as they are then, and the state's
    "optional_restored" says which happened. `extra_ok`: the checkpoint may
    hold more than `variables` (a reader that needs only some of them).
    """
    fix = ("resume with the config that wrote it (see WORKDIR/config.json) or "
           "pass a new --workdir")
    try:
      state = json.loads(storage.read_text(os.path.join(path, "state.json")))
      npz_bytes = storage.read_bytes(os.path.join(path, "variables.npz"))
      with np.load(io.BytesIO(npz_bytes)) as npz:
        arrays = [npz[f"v{i:05d}"] for i in range(len(npz.files))]
      saved_names = unique_names(state["names"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError,
            tf_errors.OpError) as e:
      raise UserError(f"checkpoint {path} is unreadable or truncated "
                      f"({type(e).__name__})", f"delete {path} to fall back to "
                      "the checkpoint before it, or pass a new --workdir") from None
    saved = dict(zip(saved_names, arrays))
    optional_names = unique_names(v.path for v in optional)
    state["optional_restored"] = bool(optional) and set(optional_names) <= set(saved)
    if optional and state["optional_restored"]:
      variables = list(variables) + list(optional)
    names = unique_names(v.path for v in variables)
    if set(saved) != set(names) and not (extra_ok and set(names) <= set(saved)):
      missing = sorted(set(names) - set(saved))
      extra = sorted(set(saved) - set(names))
      raise UserError(
          f"checkpoint {path} holds other variables than this model "
          f"({len(arrays)} against {len(variables)}; missing {missing[:3]}, "
          f"not in this model {extra[:3]}: another architecture or method)", fix)
    for name, variable in zip(names, variables):
      if tuple(saved[name].shape) != tuple(variable.shape):
        raise UserError(f"checkpoint {path} holds {name} with shape "
                        f"{tuple(saved[name].shape)}, this model has "
                        f"{tuple(variable.shape)} (another architecture)", fix)
    for name, variable in zip(names, variables):
      variable.assign(saved[name])
    return state


def unique_names(paths) -> list[str]:
  """The variables' paths, with `#2`, `#3`, ... on a path seen before (checkpoints
  of l2t_tf 0.1 saved repeated paths as they were, and read the same way)."""
  seen, names = {}, []
  for path in paths:
    seen[path] = seen.get(path, 0) + 1
    names.append(path + (f"#{seen[path]}" if seen[path] > 1 else ""))
  return names
