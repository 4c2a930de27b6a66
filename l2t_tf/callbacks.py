"""Callbacks: test evaluation, best-on-validation, NaN guard and checkpoints."""
import math

import keras
import tensorflow as tf

from l2t_tf import analysis, checkpoints


class StopOnNonFinite(keras.callbacks.Callback):
  """Stops training at the first batch whose loss is NaN or Inf.

  Unlike keras.callbacks.TerminateOnNaN it records where (`failure`), so the
  checkpoint callback can refuse to save the broken state and the run can end
  with a clear error instead of a silently finished NaN model.
  """

  def __init__(self):
    super().__init__()
    self.failure = None
    self._epoch = 0

  def on_epoch_begin(self, epoch, logs=None):
    self._epoch = epoch

  def on_train_batch_end(self, batch, logs=None):
    loss = (logs or {}).get("loss")
    if loss is not None and not math.isfinite(float(loss)):
      self.failure = {"epoch": self._epoch + 1, "batch": batch + 1,
                      "loss": float(loss)}
      self.model.stop_training = True


class TestEvaluation(keras.callbacks.Callback):
  """Adds `test_loss` and `test_accuracy` to each epoch's logs.

  Put it before TensorBoard and the best-epoch tracker so they see the values.
  """

  def __init__(self, test_dataset, guard: StopOnNonFinite | None = None):
    super().__init__()
    self.test_dataset = test_dataset
    self.guard = guard

  def on_epoch_end(self, epoch, logs=None):
    if self.guard is not None and self.guard.failure:
      return
    results = self.model.evaluate(self.test_dataset, verbose=0, return_dict=True)
    if logs is not None:
      logs["test_loss"] = float(results["loss"])
      logs["test_accuracy"] = float(results["accuracy"])


class BestOnValidation(keras.callbacks.Callback):
  """Remembers the epoch with the best validation accuracy and its test accuracy."""

  def __init__(self, best: dict | None = None):
    super().__init__()
    self.best = best or {"best_epoch": 0, "val_accuracy": -1.0,
                         "test_accuracy": None}

  def on_epoch_end(self, epoch, logs=None):
    logs = logs or {}
    if logs.get("val_accuracy", -1.0) > self.best["val_accuracy"]:
      self.best = {"best_epoch": epoch + 1,
                   "val_accuracy": float(logs["val_accuracy"]),
                   "test_accuracy": float(logs.get("test_accuracy", float("nan")))}


class Checkpointing(keras.callbacks.Callback):
  """Saves a checkpoint at every epoch end and every `every_steps` batches.

  Also keeps the per-epoch history (it goes into the checkpoint, so a resumed
  run reports the same history as an uninterrupted one). On a run resumed
  mid-epoch, the running metric sums saved with the checkpoint are put back
  after Keras resets them at the epoch's start, so the epoch's averages cover
  all its batches.
  """

  def __init__(self, checkpointer: checkpoints.Checkpointer, steps_per_epoch: int,
               every_steps: int, best: BestOnValidation, guard: StopOnNonFinite,
               state: dict | None = None, metric_values=None, chief: bool = True):
    super().__init__()
    state = state or {}
    self.checkpointer, self.steps_per_epoch = checkpointer, steps_per_epoch
    self.every_steps, self.best, self.guard = every_steps, best, guard
    self.history = state.get("history", {})
    self.chief = chief
    self._resume = (state.get("epoch", 0), state.get("step", 0), metric_values)
    self._epoch, self._offset = 0, 0

  def on_epoch_begin(self, epoch, logs=None):
    self._epoch, self._offset = epoch, 0
    resume_epoch, resume_step, metric_values = self._resume
    if epoch == resume_epoch and resume_step:
      self._offset = resume_step
      for variable, value in zip(self.model.metrics_variables, metric_values):
        variable.assign(value)
      self._resume = (None, 0, None)

  def on_train_batch_end(self, batch, logs=None):
    step = self._offset + batch + 1
    if (self.every_steps and step % self.every_steps == 0
        and step < self.steps_per_epoch and not self.guard.failure):
      self._save(self._epoch, step)

  def on_epoch_end(self, epoch, logs=None):
    if self.guard.failure:
      return
    for key, value in (logs or {}).items():
      self.history.setdefault(key, []).append(float(value))
    self._save(epoch + 1, 0)

  def _save(self, epoch: int, step: int) -> None:
    variables = checkpoints.training_variables(self.model)
    values = checkpoints.read_values(variables)  # on every worker, see there
    if not self.chief:
      return
    state = {"epoch": epoch, "step": step, "best": self.best.best,
             "history": self.history}
    self.checkpointer.save(variables, state, epoch * self.steps_per_epoch + step,
                           values)


class MetaSummaries(keras.callbacks.Callback):
  """TensorBoard, per epoch and pair: the histogram of lambda over the validation
  set (`lambda/<pair>`) and the mean entropy of its channel weights
  (`channel_weight_entropy/<pair>`; log C means uniform)."""

  def __init__(self, dataset, log_dir: str, guard: StopOnNonFinite | None = None):
    super().__init__()
    self.dataset, self.guard = dataset, guard
    self.writer = tf.summary.create_file_writer(log_dir)

  def on_epoch_end(self, epoch, logs=None):
    if self.guard is not None and self.guard.failure:
      return
    lambdas, weights = analysis.meta_outputs(self.model, self.dataset)
    with self.writer.as_default(step=epoch):
      for p, pair in enumerate(self.model.pairs):
        tf.summary.histogram(f"lambda/{pair.label}", lambdas[:, p])
        tf.summary.scalar(f"channel_weight_entropy/{pair.label}",
                          float(analysis.entropy(weights[p]).mean()))
    self.writer.flush()
