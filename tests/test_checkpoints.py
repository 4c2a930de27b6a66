"""Checkpoints: exact round trip of all training state, all-or-nothing, crash-safe."""
import errno
import functools
import os

import numpy as np
import pytest
import keras

import tiny
from l2t_tf import checkpoints, storage
from l2t_tf.errors import UserError
from trainers.test_l2t_ww import _model


@functools.lru_cache  # one per module: the tests only save it or restore its own values
def _trained(seed=1):
  model = _model(seed=seed)
  model.fit(*tiny.batch(), batch_size=3, epochs=1, verbose=0)
  return model


def test_round_trip_restores_every_training_variable(tmp_path):
  trained = _trained()
  variables = checkpoints.training_variables(trained)
  names = {v.path for v in variables}
  # The state that a plain `model.weights` would miss is in there.
  assert any("momentum" in n for n in names)         # SGD slots
  assert sum("iteration" in n for n in names) == 2   # both optimizers' counters
  assert any(v is trained.meta_optimizer.iterations for v in variables)
  checkpointer = checkpoints.Checkpointer(str(tmp_path))
  path = checkpointer.save(variables, {"epoch": 1, "step": 0}, global_step=2)
  assert checkpointer.latest() == path

  fresh = _model(seed=7)
  state = checkpointer.restore(checkpoints.training_variables(fresh), path)
  assert state["epoch"] == 1 and state["step"] == 0
  for a, b in zip(variables, checkpoints.training_variables(fresh)):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def test_other_architecture_is_refused_before_any_assignment(tmp_path):
  checkpointer = checkpoints.Checkpointer(str(tmp_path))
  path = checkpointer.save(checkpoints.training_variables(_trained()), {}, 1)
  other = _model(batch_norm=False)
  before = [v.numpy() for v in checkpoints.training_variables(other)]
  with pytest.raises(UserError, match="another architecture"):
    checkpointer.restore(checkpoints.training_variables(other), path)
  for value, v in zip(before, checkpoints.training_variables(other)):
    np.testing.assert_array_equal(value, v.numpy())


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
  checkpointer = checkpoints.Checkpointer(str(tmp_path))
  model = _trained()
  path = checkpointer.save(checkpoints.training_variables(model), {}, 1)
  npz = os.path.join(path, "variables.npz")
  with open(npz, "r+b") as f:
    f.truncate(os.path.getsize(npz) // 2)
  with pytest.raises(UserError, match="unreadable or truncated"):
    checkpointer.restore(checkpoints.training_variables(model), path)


def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
  checkpointer = checkpoints.Checkpointer(str(tmp_path))
  variables = checkpoints.training_variables(_trained())
  first = checkpointer.save(variables, {"epoch": 1}, 10)

  def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")
  monkeypatch.setattr(np, "savez", disk_full)
  with pytest.raises(UserError, match="No space left on device.*previous"):
    checkpointer.save(variables, {"epoch": 2}, 20)
  assert checkpointer.latest() == first
  assert sorted(os.listdir(checkpointer.directory)) == ["LATEST", "ckpt-00000010"]


def test_keeps_the_newest_checkpoints(tmp_path):
  checkpointer = checkpoints.Checkpointer(str(tmp_path), keep=2)
  variables = checkpoints.training_variables(_model())
  for step in (3, 6, 9):
    checkpointer.save(variables, {}, step)
  assert sorted(os.listdir(checkpointer.directory)) == [
      "LATEST", "ckpt-00000006", "ckpt-00000009"]
  assert checkpointer.latest().endswith("ckpt-00000009")


def test_on_a_filesystem_without_rename(ram):
  """ram:// stands in for gs://: the same round trip, LATEST and pruning."""
  checkpointer = checkpoints.Checkpointer(ram, keep=2)
  variables = checkpoints.training_variables(_trained())
  for step in (3, 6, 9):
    path = checkpointer.save(variables, {"epoch": step}, step)
  assert storage.listdir(checkpointer.directory) == [
      "LATEST", "ckpt-00000006", "ckpt-00000009"]
  assert checkpointer.latest() == path
  fresh = checkpoints.training_variables(_model(seed=7))
  assert checkpointer.restore(fresh, path)["epoch"] == 9
  for a, b in zip(variables, fresh):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def test_an_upload_cut_short_is_never_restored_and_is_redone(ram, cut_upload):
  """Killed after variables.npz, before state.json (uploaded last): LATEST
  still names the previous checkpoint, and saving that step again replaces
  the partial folder."""
  checkpointer = checkpoints.Checkpointer(ram)
  variables = checkpoints.training_variables(_trained())
  first = checkpointer.save(variables, {"epoch": 1}, 10)
  cut_upload("state.json")
  with pytest.raises(UserError, match="connection lost.*previous checkpoint is kept"):
    checkpointer.save(variables, {"epoch": 2}, 20)
  partial = os.path.join(checkpointer.directory, "ckpt-00000020")
  assert storage.listdir(partial) == ["variables.npz"]
  assert checkpointer.latest() == first

  cut_upload(None)
  assert checkpointer.save(variables, {"epoch": 2}, 20) == partial
  assert checkpointer.latest() == partial
  assert checkpointer.restore(variables, partial)["epoch"] == 2


def _var(value, name):
  return keras.Variable(value, name=name)


def test_variables_are_restored_by_name_not_position(tmp_path):
  """A model whose variables come in another order (another l2t_tf version)
  gets each value under its own name; same-shaped ones are not swapped."""
  a, b = _var(1.0, name="a"), _var(0.0, name="b")
  checkpointer = checkpoints.Checkpointer(str(tmp_path))
  path = checkpointer.save([a, b], {}, 1)
  a2, b2 = _var(5.0, name="a"), _var(5.0, name="b")
  checkpointer.restore([b2, a2], path)
  assert (a2.numpy(), b2.numpy()) == (1.0, 0.0)


def test_other_variable_names_are_refused_before_any_assignment(tmp_path):
  checkpointer = checkpoints.Checkpointer(str(tmp_path))
  path = checkpointer.save([_var(1.0, name="a"), _var(2.0, name="b")],
                           {}, 1)
  a, c = _var(5.0, name="a"), _var(5.0, name="c")
  with pytest.raises(UserError, match=r"other variables.*missing \['c'\].*\['b'\]"):
    checkpointer.restore([a, c], path)
  assert (a.numpy(), c.numpy()) == (5.0, 5.0)


def test_repeated_paths_are_told_apart_by_occurrence():
  assert checkpoints.unique_names(["x", "y", "x", "x"]) == ["x", "y", "x#2", "x#3"]


def test_a_lost_latest_resumes_from_the_newest_complete_checkpoint(tmp_path):
  """LATEST deleted (or never rewritten after a kill): nothing is discarded,
  and saving a step that is already complete does not overwrite it."""
  checkpointer = checkpoints.Checkpointer(str(tmp_path), keep=3)
  v = _var(1.0, name="v")
  checkpointer.save([v], {"epoch": 1}, 1)
  second = checkpointer.save([v], {"epoch": 2}, 2)
  os.remove(os.path.join(checkpointer.directory, "LATEST"))
  assert checkpointer.latest() == second
  v.assign(7.0)
  checkpointer.save([v], {"epoch": 99}, 2)
  assert checkpointer.restore([v], second)["epoch"] == 2 and v.numpy() == 1.0
  assert checkpointer.latest() == second


def test_a_latest_that_names_no_checkpoint_says_to_delete_only_that_file(tmp_path):
  checkpointer = checkpoints.Checkpointer(str(tmp_path))
  checkpointer.save([_var(1.0, name="v")], {}, 1)
  pointer = os.path.join(checkpointer.directory, "LATEST")
  for name in ("..", "ckpt-00000007", ""):
    with open(pointer, "w") as f:
      f.write(name + "\n")
    with pytest.raises(UserError, match=f"delete the file {pointer} \\(only that"):
      checkpointer.latest()
