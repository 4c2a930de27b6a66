"""The NaN guard and the checkpoint callback, on a real `fit`."""
import keras
import numpy as np
import pytest

from l2t_tf import callbacks, checkpoints
from l2t_tf.models import naming


def _fit(tmp_path, images, every_steps=1, learning_rate=0.01, validation=None):
  keras.utils.set_random_seed(0)
  with naming.fresh_names():  # checkpoints restore by variable path
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(learning_rate),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  guard, best = callbacks.StopOnNonFinite(), callbacks.BestOnValidation(model)
  checkpointer = checkpoints.Checkpointer(str(tmp_path))
  saver = callbacks.Checkpointing(checkpointer, steps_per_epoch=len(images) // 2,
                                  every_steps=every_steps, best=best, guard=guard)
  model.fit(images, np.zeros(len(images), np.int64), batch_size=2, epochs=2,
            shuffle=False, verbose=0, callbacks=[guard, best, saver],
            validation_data=validation)
  return model, guard, checkpointer, best


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
  images = np.ones((10, 3), np.float32)
  images[6] = np.nan  # the 4th batch of the first epoch
  model, guard, checkpointer, best = _fit(tmp_path, images)
  assert guard.failure == {"epoch": 1, "where": "batch 4",
                           "loss": pytest.approx(np.nan, nan_ok=True)}
  assert checkpointer.latest().endswith("ckpt-00000003")
  fresh_vars = checkpoints.training_variables(model)
  checkpointer.restore(fresh_vars, checkpointer.latest(), optional=best.variables)
  assert all(np.isfinite(v.numpy()).all() for v in fresh_vars)


def test_weights_broken_by_the_last_step_stop_at_validation(tmp_path):
  """Every training loss is finite (each is taken before its step), but the
  one step of the epoch left infinite weights: the validation loss is NaN."""
  images = np.ones((2, 3), np.float32)
  model, guard, checkpointer, best = _fit(tmp_path, images, learning_rate=float("inf"),
                                    validation=(images, np.zeros(2, np.int64)))
  assert guard.failure == {"epoch": 1, "where": "validation",
                           "loss": pytest.approx(np.nan, nan_ok=True)}
  assert checkpointer.latest() is None  # the broken epoch end is not saved
  assert not np.isfinite(model.layers[0].kernel.numpy()).all()


def test_weights_broken_mid_epoch_are_never_checkpointed(tmp_path):
  """Step 1 breaks the weights with a finite loss; its checkpoint (every
  step) is skipped, and step 2's NaN loss stops training."""
  images = np.ones((4, 3), np.float32)
  _, guard, checkpointer, _ = _fit(tmp_path, images, learning_rate=float("inf"))
  assert guard.failure["where"] == "batch 2"
  assert checkpointer.latest() is None


def test_saves_every_n_steps_and_every_epoch_end(tmp_path):
  _, guard, checkpointer, _ = _fit(tmp_path, np.ones((10, 3), np.float32),
                                   every_steps=2)
  assert guard.failure is None
  # steps 2, 4 (mid-epoch), 5 (epoch end), 7, 9, 10; the newest two are kept.
  assert checkpointer.latest().endswith("ckpt-00000010")
  other, _, _, best = _fit(tmp_path / "other", np.ones((10, 3), np.float32))
  state = checkpointer.restore(checkpoints.training_variables(other),
                               checkpointer.latest(), optional=best.variables)
  assert state["optional_restored"]  # the best epoch's weights came back too
  assert (state["epoch"], state["step"]) == (2, 0)
  assert len(state["history"]["loss"]) == 2


def _chance(accuracies, classes=5, steps=2):
  watcher = callbacks.ChanceWarning(classes, steps, learning_rate=0.1)
  for epoch, accuracy in enumerate(accuracies):
    watcher.on_epoch_end(epoch, {"accuracy": accuracy})
  watcher.judge()
  return watcher.warnings


def test_chance_warning_for_a_run_that_does_not_recover():
  # The collapsed FM run of issue #18 (5 classes, 2 steps per epoch): below
  # 40 % for 8 epochs (16 steps).
  warnings = _chance([0.28, 0.2, 0.29, 0.28, 0.33, 0.35, 0.31, 0.25, 0.35, 0.38])
  assert len(warnings) == 1
  assert "epochs 1-8" in warnings[0] and "learning rate 0.1" in warnings[0]
  assert "not recovered by the last epoch (38%)" in warnings[0]
  assert "warmup_epochs" in warnings[0]


def test_a_run_near_chance_that_recovers_ends_with_a_note_not_a_warning():
  """Issue #28: at lr 0.1 on 500 images runs that end at 69 % were warned."""
  watcher = callbacks.ChanceWarning(10, 8, learning_rate=0.1)
  for epoch, accuracy in enumerate([0.12, 0.2, 0.25, 0.5, 0.69]):
    watcher.on_epoch_end(epoch, {"accuracy": accuracy})
  watcher.judge()
  assert watcher.warnings == []
  assert watcher.notes == ["training accuracy stayed below 32% (near chance) in "
                           "epochs 1-3, then recovered (training accuracy 69% in "
                           "the last epoch)"]


def test_no_chance_warning_for_a_slow_but_healthy_start():
  # The recovered scratch run: at chance for 2 epochs, then learning.
  assert not _chance([0.15, 0.18, 0.47, 0.41, 0.61, 0.71, 0.75, 0.8, 0.84])
  # Many steps per epoch: 3 epochs is the shortest window.
  assert not _chance([0.1, 0.1, 0.5], steps=100)
  assert _chance([0.1, 0.1, 0.1], steps=100)
  # 10 classes: near chance is below 32.5 %.
  assert _chance([0.18] * 8, classes=10)
  assert not _chance([0.18] * 7 + [0.4], classes=10)


def test_the_console_line_keeps_what_people_watch():
  logs = {"loss": 6.0, "loss_target": 0.2, "loss_wfm": 5.8, "accuracy": 0.9,
          "grad_norm": 1.1, "meta_grad_norm": 0.01, "val_loss": 0.2,
          "val_accuracy": 0.93, "reward": 0.8}
  callbacks.ConsoleLine().on_epoch_end(0, logs)
  assert logs == {"loss": 6.0, "loss_target": 0.2, "accuracy": 0.9,
                  "val_loss": 0.2, "val_accuracy": 0.93}
