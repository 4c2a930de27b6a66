"""Crash-safe training checkpoints: each save is a whole folder, published by renames.

Layout under `<workdir>/checkpoints/`:
  ckpt-00000120/variables.npz   every variable training needs (weights,
                                regressors, meta-networks, BatchNorm statistics,
                                both optimizers' slots and step counters, and
                                the running metric sums)
  ckpt-00000120/state.json      epoch, step in the epoch, best-on-validation
                                record, per-epoch history, variable shapes
  LATEST                        the name of the newest complete checkpoint

A save publishes the folder whole (storage.publish_folder: on a local disk a
fsynced hidden folder renamed into place; on an object store such as gs://,
with no rename, an upload with state.json last) and only then rewrites
LATEST, in one step. Restores read only the folder LATEST names, so a process
killed at any moment leaves LATEST naming a complete checkpoint; a folder it
does not name is rewritten when that step is saved again. The data order
needs no state of its own: the training stream is a pure function of
(seed, epoch, step).
"""
import io
import json
import os
import zipfile

import numpy as np
from tensorflow import errors as tf_errors

from l2t_tf import storage
from l2t_tf.errors import UserError
from l2t_tf.trainers import common

FOLDER = "checkpoints"
LATEST = "LATEST"


def training_variables(model) -> list:
  """Everything `fit` changes, in a fixed order (model weights, optimizers, metrics)."""
  groups = [model.weights, model.optimizer.variables,
            common.hooks(model).extra_state(), model.metrics_variables]
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
    """Path of the newest complete checkpoint, or None."""
    pointer = os.path.join(self.directory, LATEST)
    if not storage.exists(pointer):
      return None
    name = storage.read_text(pointer).strip()
    path = os.path.join(self.directory, name)
    if not name or not storage.isdir(path):
      raise UserError(f"{self.directory}/{LATEST} names a missing checkpoint "
                      f"'{name}'", f"delete {self.directory} to start over, or "
                      "restore the folder it names")
    return path

  def save(self, variables, state: dict, global_step: int, values=None) -> str:
    """Writes checkpoint `ckpt-<global_step>` and points LATEST at it.

    `values` (default: read from `variables`) lets every worker of a cluster
    read the variables, which may need all of them, while only the chief saves.
    """
    if values is None:
      values = read_values(variables)
    name = f"ckpt-{global_step:08d}"
    final = os.path.join(self.directory, name)
    arrays = {f"v{i:05d}": value for i, value in enumerate(values)}
    state = dict(state, shapes=[list(a.shape) for a in arrays.values()],
                 names=[v.path for v in variables])

    def fill(folder: str) -> None:
      np.savez(os.path.join(folder, "variables.npz"), **arrays)
      with open(os.path.join(folder, "state.json"), "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)

    try:
      if self.latest() == final:  # the same step saved twice: keep the first
        return final
      storage.rmtree(final)  # a folder LATEST never named: cut short
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

  def restore(self, variables, path: str) -> dict:
    """Assigns the checkpoint at `path` to `variables` and returns its state.

    All or nothing: shapes are checked before the first assignment.
    """
    fix = ("resume with the config that wrote it (see WORKDIR/config.json) or "
           "pass a new --workdir")
    try:
      state = json.loads(storage.read_text(os.path.join(path, "state.json")))
      npz_bytes = storage.read_bytes(os.path.join(path, "variables.npz"))
      with np.load(io.BytesIO(npz_bytes)) as npz:
        arrays = [npz[f"v{i:05d}"] for i in range(len(npz.files))]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError,
            tf_errors.OpError) as e:
      raise UserError(f"checkpoint {path} is unreadable or truncated "
                      f"({type(e).__name__})", f"delete {path} and its name in "
                      f"{LATEST} to fall back, or pass a new --workdir") from None
    if len(arrays) != len(variables):
      raise UserError(f"checkpoint {path} holds {len(arrays)} variables but this "
                      f"model has {len(variables)} (another architecture or "
                      "method)", fix)
    for array, variable in zip(arrays, variables):
      if tuple(array.shape) != tuple(variable.shape):
        raise UserError(f"checkpoint {path} holds {variable.path} with shape "
                        f"{tuple(array.shape)}, this model has "
                        f"{tuple(variable.shape)} (another architecture)", fix)
    for array, variable in zip(arrays, variables):
      variable.assign(array)
    return state
