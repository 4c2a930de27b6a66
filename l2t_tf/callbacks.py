"""Callbacks: test evaluation, best-on-validation, NaN guard and checkpoints."""
import math
import os

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from l2t_tf import analysis, checkpoints
from l2t_tf import workdir as workdir_lib
from l2t_tf import hooks


class StopOnNonFinite(keras.callbacks.Callback):
  """Stops training at the first batch whose loss is NaN or Inf, or at an
  epoch whose validation loss is (the last step broke the weights).

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
      self.failure = {"epoch": self._epoch + 1, "where": f"batch {batch + 1}",
                      "loss": float(loss)}
      self.model.stop_training = True

  def on_epoch_end(self, epoch, logs=None):
    loss = (logs or {}).get("val_loss")
    if not self.failure and loss is not None and not math.isfinite(float(loss)):
      self.failure = {"epoch": epoch + 1, "where": "validation",
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


class ConsoleLine(keras.callbacks.Callback):
  """Keeps Keras's progress line to the few numbers people watch.

  Keras's progress logger runs after every callback of `fit` and prints what
  is left in the logs; this one, last of ours (after the checkpoint's
  history and TensorBoard have taken everything), removes the rest
  (gradient norms, loss parts, policy values: TensorBoard and results.json
  hold them), so that an epoch line fits a terminal.
  """
  SHOWN = ("loss", "loss_target", "accuracy")

  def _trim(self, logs) -> None:
    if logs is None:
      return
    for key in list(logs):
      if key.removeprefix("val_") not in self.SHOWN:
        del logs[key]

  def on_train_batch_end(self, batch, logs=None):
    self._trim(logs)

  def on_epoch_end(self, epoch, logs=None):
    self._trim(logs)


class BestOnValidation(keras.callbacks.Callback):
  """Remembers the epoch with the best validation accuracy and the target's
  weights then (`variables`, which checkpoints hold, so a resumed run keeps
  them), for the test evaluation at the end (`restore_best`)."""

  def __init__(self, target: keras.Model, best: dict | None = None):
    super().__init__()
    self.target = target
    self.best = best or {"best_epoch": 0, "val_accuracy": -1.0,
                         "test_accuracy": None}
    self.variables = [keras.Variable(w, trainable=False, name=f"best_{i:04d}")
                      for i, w in enumerate(target.get_weights())]

  def on_epoch_end(self, epoch, logs=None):
    logs = logs or {}
    if logs.get("val_accuracy", -1.0) > self.best["val_accuracy"]:
      self.best = {"best_epoch": epoch + 1,
                   "val_accuracy": float(logs["val_accuracy"]),
                   "test_accuracy": logs.get("test_accuracy")}
      self.keep_current()

  def keep_current(self) -> None:
    """Keeps the target's weights now as the best epoch's."""
    for kept, weight in zip(self.variables, self.target.weights):
      kept.assign(weight)

  def restore_best(self) -> None:
    """Puts the best epoch's weights into the target (no-op before any epoch)."""
    if self.best["best_epoch"]:
      for kept, weight in zip(self.variables, self.target.weights):
        weight.assign(kept)


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
    variables = checkpoints.training_variables(self.model) + self.best.variables
    values = checkpoints.read_values(variables)  # on every worker, see there
    if not self.chief or not all(np.isfinite(v).all() for v in values
                                 if np.issubdtype(v.dtype, np.floating)):
      return  # a step broke the weights: the guard stops at the next loss
    state = {"epoch": epoch, "step": step, "best": self.best.best,
             "history": self.history}
    self.checkpointer.save(variables, state, epoch * self.steps_per_epoch + step,
                           values)


def _with_epoch(trace: dict, epoch: int, entry: dict) -> dict:
  """`trace` ({epoch: entry}, 1-based keys) with `entry` as epoch + 1, and no
  later epochs (a resumed run rewrites what its interrupted run had written)."""
  kept = {k: v for k, v in trace.items() if int(k) < epoch + 1}
  kept[str(epoch + 1)] = entry
  return kept


class MetaSummaries(keras.callbacks.Callback):
  """What phi learned, per epoch and pair, against where it started.

  At the first start of training (no checkpoint yet) it measures lambda and
  the channel weights on the validation set and keeps them in
  `<workdir>/meta_init.json`. Each epoch, in TensorBoard: the histogram of
  lambda (`lambda/<pair>`), its mean and change from the start
  (`lambda_mean/`, `lambda_change/`), the channel-weight entropy and its gap
  to log C (`channel_weight_entropy/`, `entropy_gap/`; 0 means uniform), and
  the trainer's per-pair values (lambda on the training batches, the
  meta-gradient norm, the "where" hypergradient and its signal-to-noise),
  which it takes out of the epoch's logs (the console line would otherwise
  carry them per pair). The same per-pair values, with the mean channel
  weights, one entry per epoch, go to `<workdir>/meta_trace.json`.
  """
  PER_PAIR = ("meta_grad_norm/", "hypergrad/", "hypergrad_snr/", "train_lambda/",
              "train_lambda_std/")

  def __init__(self, dataset, log_dir: str, workdir: str, fresh: bool,
               guard: StopOnNonFinite | None = None):
    super().__init__()
    self.dataset, self.guard, self.workdir, self.fresh = dataset, guard, workdir, fresh
    self.log_dir = log_dir
    self.writers: dict = {}  # one TensorBoard run per pair: logs/meta/<pair>
    self.start: dict | None = None
    self.trace: dict = {}

  def _writer(self, label: str):
    if label not in self.writers:
      self.writers[label] = tf.summary.create_file_writer(
          os.path.join(self.log_dir, label))
    return self.writers[label]

  def on_train_begin(self, logs=None):
    self.trace = workdir_lib.read_json(self.workdir, workdir_lib.META_TRACE) or {}
    self.start = workdir_lib.read_json(self.workdir, workdir_lib.META_INIT)
    if self.start is None and self.fresh:
      self.start = analysis.lambda_statistics(self.model, self.dataset)
      workdir_lib.write_json(self.workdir, workdir_lib.META_INIT, self.start)
      self.fresh = False

  def on_epoch_end(self, epoch, logs=None):
    logs = logs if logs is not None else {}
    per_pair = {k: float(logs.pop(k)) for k in list(logs)
                if k.startswith(self.PER_PAIR)}
    if self.guard is not None and self.guard.failure:
      return
    lambdas, weights = analysis.meta_outputs(self.model, self.dataset)
    entry = dict(per_pair, steps=(self.params or {}).get("steps"))
    for p, pair in enumerate(self.model.pairs):
      mean, entropy = float(lambdas[:, p].mean()), float(
          analysis.entropy(weights[p]).mean())
      entry[f"lambda_mean/{pair.label}"] = mean
      entry[f"channel_weights/{pair.label}"] = np.round(
          weights[p].mean(0), 6).tolist()  # over the validation images
      # Each pair is a TensorBoard run with the same tags, so that each
      # quantity is one chart with a line per pair.
      with self._writer(pair.label).as_default(step=epoch):
        for name, value in per_pair.items():
          quantity, _, label = name.partition("/")
          if label == pair.label:
            tf.summary.scalar(quantity, value)
        tf.summary.histogram("lambda", lambdas[:, p])
        tf.summary.scalar("lambda_mean", mean)
        tf.summary.scalar("channel_weight_entropy", entropy)
        tf.summary.scalar("entropy_gap", math.log(weights[p].shape[-1]) - entropy)
        if self.start and pair.label in self.start:
          tf.summary.scalar("lambda_change", mean - self.start[pair.label]["mean"])
    for writer in self.writers.values():
      writer.flush()
    self.trace = _with_epoch(self.trace, epoch, entry)
    workdir_lib.write_json(self.workdir, workdir_lib.META_TRACE, self.trace)


class PolicyTrace(keras.callbacks.Callback):
  """What L2TL's policy learned and the signal it learned from, per epoch.

  `<workdir>/policy_trace.json` holds, under "0", the policy before its first
  step (E[lambda] per source class, E[alpha_s]), and per epoch the same after
  it with `analysis.policy_signal` of the epoch's policy steps (the reward's
  mean and spread, the advantage, each class's lambda-advantage correlation
  and its t). TensorBoard gets the scalars. The trainer's sums are reset at
  each epoch's start.
  """

  def __init__(self, log_dir: str, workdir: str):
    super().__init__()
    self.workdir = workdir
    self.writer = tf.summary.create_file_writer(log_dir)
    self.trace: dict = {}

  def _policy(self) -> dict:
    policy = self.model.policy
    return {"expected_lambda": [float(v) for v in policy.expected_class_weights()],
            "expected_alpha": float(policy.expected_alpha())}

  def on_train_begin(self, logs=None):
    self.trace = workdir_lib.read_json(self.workdir, workdir_lib.POLICY_TRACE) or {}
    if "0" not in self.trace:
      self.trace["0"] = dict(self._policy(), steps=0)

  def on_epoch_begin(self, epoch, logs=None):
    for variable in self.model.signal.values():
      variable.assign(tf.zeros_like(variable))

  def on_epoch_end(self, epoch, logs=None):
    sums = {name: v.numpy() for name, v in self.model.signal.items()}
    entry = dict(self._policy(), **analysis.policy_signal(sums))
    entry["steps"] = (self.params or {}).get("steps") or entry.get("steps", 0)
    with self.writer.as_default(step=epoch):
      for name in ("reward_mean", "reward_std", "advantage_mean", "advantage_std",
                   "significant_classes", "expected_alpha"):
        if name in entry:
          tf.summary.scalar(f"policy/{name}", entry[name])
      tf.summary.histogram("policy/expected_lambda", entry["expected_lambda"])
    self.writer.flush()
    self.trace = _with_epoch(self.trace, epoch, entry)
    workdir_lib.write_json(self.workdir, workdir_lib.POLICY_TRACE, self.trace)


class ChanceWarning(keras.callbacks.Callback):
  """Warns when training accuracy stays near chance, and judges the run at its end.

  Near chance: below chance + a quarter of the way to 100 % (20 % + 20 points
  for 5 classes). For `max(3, ceil(16 / steps_per_epoch))` epochs in a row, so
  that a healthy start over a few batches does not trigger it. The usual cause
  is an early blow-up at a learning rate too high for a small dataset. At the
  end, a run whose last epoch is no longer near chance recovered: the warning
  becomes a note; one still near chance keeps it, saying so.
  """

  def __init__(self, num_classes: int, steps_per_epoch: int, learning_rate: float):
    super().__init__()
    chance = 1.0 / max(2, num_classes)
    self.threshold = chance + 0.25 * (1.0 - chance)
    self.patience = max(3, math.ceil(16 / max(1, steps_per_epoch)))
    self.learning_rate = learning_rate
    self.recent: list[float] = []
    self.window: tuple[int, int] | None = None  # epochs (1-based) near chance
    self.warnings: list[str] = []
    self.notes: list[str] = []

  def on_epoch_end(self, epoch, logs=None):
    accuracy = (logs or {}).get("accuracy")
    if accuracy is None or not hooks.of(self.model).trains_target():
      return
    self.recent = (self.recent + [float(accuracy)])[-self.patience:]
    if self.window is None and len(self.recent) == self.patience and \
        max(self.recent) < self.threshold:
      self.window = (epoch + 2 - self.patience, epoch + 1)
      logging.warning("%s so far", self._near_chance())

  def judge(self) -> None:
    """After training (fit may run in parts): recovered, or still near chance."""
    if self.window is None or not self.recent:
      return
    last = self.recent[-1]
    if last >= self.threshold:
      self.notes.append(f"{self._near_chance()}, then recovered (training accuracy "
                        f"{100 * last:.0f}% in the last epoch)")
      logging.info("%s", self.notes[-1])
      return
    self.warnings.append(
        f"{self._near_chance()} and had not recovered by the last epoch "
        f"({100 * last:.0f}%): the target is not learning. Likely cause: learning "
        f"rate {self.learning_rate:g} is too high for this dataset (an early "
        "blow-up it does not recover from). Options: "
        "--config.train.warmup_epochs=5, a lower --config.train.learning_rate, "
        "and the reference recipe (model.init='reference', "
        "train.momentum_rule='pytorch', the defaults)")
    logging.warning("%s", self.warnings[-1])

  def _near_chance(self) -> str:
    first, last = self.window
    return (f"training accuracy stayed below {100 * self.threshold:.0f}% (near "
            f"chance) in epochs {first}-{last}")
