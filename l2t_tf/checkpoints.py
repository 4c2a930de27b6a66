"""Crash-safe training checkpoints: each save is a whole folder, published by renames.

Layout under `<workdir>/checkpoints/`:
  ckpt-00000120/variables.npz   every variable training needs (weights,
                                regressors, meta-networks, BatchNorm statistics,
                                both optimizers' slots and step counters, and
                                the running metric sums)
  ckpt-00000120/state.json      epoch, step in the epoch, best-on-validation
                                record, per-epoch history, variable shapes
  LATEST                        the name of the newest complete checkpoint

A save writes a hidden temporary folder, fsyncs it, renames it into place and
only then rewrites LATEST (also by rename), so a process killed at any moment
leaves LATEST naming a complete checkpoint. The data order needs no state of
its own: the training stream is a pure function of (seed, epoch, step).
"""
import json
import os
import shutil
import tempfile
import zipfile

import numpy as np

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


def _fsync_file(path: str) -> None:
  with open(path, "rb") as f:
    os.fsync(f.fileno())


def _write_latest(directory: str, name: str) -> None:
  with tempfile.NamedTemporaryFile("w", dir=directory, delete=False,
                                   prefix=".latest-") as f:
    f.write(name + "\n")
    f.flush()
    os.fsync(f.fileno())
  os.replace(f.name, os.path.join(directory, LATEST))


class Checkpointer:
  """Saves and restores `training_variables` plus a JSON state, keeping `keep`."""

  def __init__(self, workdir: str, keep: int = 2):
    self.directory = os.path.join(workdir, FOLDER)
    self.keep = max(1, keep)

  def latest(self) -> str | None:
    """Path of the newest complete checkpoint, or None."""
    try:
      with open(os.path.join(self.directory, LATEST)) as f:
        name = f.read().strip()
    except FileNotFoundError:
      return None
    path = os.path.join(self.directory, name)
    if not name or not os.path.isdir(path):
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
    os.makedirs(self.directory, exist_ok=True)
    name = f"ckpt-{global_step:08d}"
    final = os.path.join(self.directory, name)
    temporary = tempfile.mkdtemp(dir=self.directory, prefix=".tmp-")
    try:
      arrays = {f"v{i:05d}": value for i, value in enumerate(values)}
      state = dict(state, shapes=[list(a.shape) for a in arrays.values()],
                   names=[v.path for v in variables])
      np.savez(os.path.join(temporary, "variables.npz"), **arrays)
      with open(os.path.join(temporary, "state.json"), "w") as f:
        json.dump(state, f, indent=1)
      for file in ("variables.npz", "state.json"):
        _fsync_file(os.path.join(temporary, file))
      if os.path.exists(final):  # the same step saved twice: keep the first
        shutil.rmtree(temporary)
      else:
        os.replace(temporary, final)
      _write_latest(self.directory, name)
    except OSError as e:
      shutil.rmtree(temporary, ignore_errors=True)
      raise UserError(f"cannot write checkpoint {final} ({e.strerror}); the "
                      "previous checkpoint is kept",
                      "free disk space or pass another --workdir") from None
    self._prune(name)
    return final

  def _prune(self, newest: str) -> None:
    names = sorted(n for n in os.listdir(self.directory) if n.startswith("ckpt-"))
    for name in names[:-self.keep]:
      if name != newest:
        shutil.rmtree(os.path.join(self.directory, name), ignore_errors=True)

  def restore(self, variables, path: str) -> dict:
    """Assigns the checkpoint at `path` to `variables` and returns its state.

    All or nothing: shapes are checked before the first assignment.
    """
    fix = ("resume with the config that wrote it (see WORKDIR/config.json) or "
           "pass a new --workdir")
    try:
      with open(os.path.join(path, "state.json")) as f:
        state = json.load(f)
      with np.load(os.path.join(path, "variables.npz")) as npz:
        arrays = [npz[f"v{i:05d}"] for i in range(len(npz.files))]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
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
