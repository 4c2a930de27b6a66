"""The target and meta optimizers as the paper's PyTorch code runs them.

- Weight decay is coupled (`l2 * w` added to the gradient before momentum), as
  PyTorch's SGD/Adam; Keras's `weight_decay` is decoupled.
- Momentum follows PyTorch by default: v <- m v + g; w <- w - lr v. Keras folds
  the learning rate into the velocity (v <- m v - lr g; w <- w + v); the two
  differ whenever the learning rate changes (every step of a cosine schedule).
  `momentum_rule='keras'` keeps Keras's rule (l2t_tf 0.1).
- The cosine schedule is per step, or per epoch as the reference
  (`CosineAnnealingLR` stepped once an epoch): `train.schedule_unit`.
The look-ahead (`trainers/lookahead.py`) applies the same rule to tensors.
"""
import math

import keras
from keras import ops

from l2t_tf.errors import UserError

MOMENTUM_RULES = ("pytorch", "keras")
SCHEDULE_UNITS = ("step", "epoch")


class _CoupledL2:
  """Adds `l2 * w` to each gradient before the wrapped optimizer's own update."""

  def __init__(self, l2: float = 0.0, **kwargs):
    super().__init__(**kwargs)
    self.l2 = l2

  def update_step(self, gradient, variable, learning_rate):
    if self.l2:
      gradient = ops.add(gradient, ops.multiply(ops.cast(self.l2, variable.dtype),
                                                variable))
    super().update_step(gradient, variable, learning_rate)

  def get_config(self):
    return {**super().get_config(), "l2": self.l2}


@keras.saving.register_keras_serializable("l2t_tf")
class SGDL2(_CoupledL2, keras.optimizers.SGD):
  """SGD with momentum and coupled weight decay `l2`.

  momentum_rule 'pytorch': v <- m v + g; w <- w - lr v (the slot holds v in
  gradient units). 'keras': v <- m v - lr g; w <- w + v.
  """

  def __init__(self, momentum_rule: str = "pytorch", **kwargs):
    if momentum_rule not in MOMENTUM_RULES:
      raise UserError(f"unknown train.momentum_rule '{momentum_rule}'",
                      f"use one of {list(MOMENTUM_RULES)}")
    if kwargs.get("nesterov"):
      raise ValueError("SGDL2 does not implement Nesterov momentum")
    super().__init__(**kwargs)
    self.momentum_rule = momentum_rule

  def update_step(self, gradient, variable, learning_rate):
    if self.momentum_rule == "keras" or not self.momentum:
      return super().update_step(gradient, variable, learning_rate)
    # _CoupledL2 is not in the way here: add the decay, then PyTorch's rule.
    dtype = variable.dtype
    gradient = ops.cast(gradient, dtype)
    if self.l2:
      gradient = gradient + ops.cast(self.l2, dtype) * variable
    velocity = self.momentums[self._get_variable_index(variable)]
    self.assign(velocity, ops.cast(self.momentum, dtype) * velocity + gradient)
    self.assign_sub(variable, ops.cast(learning_rate, dtype) * velocity)

  def get_config(self):
    return {**super().get_config(), "momentum_rule": self.momentum_rule}


@keras.saving.register_keras_serializable("l2t_tf")
class AdamL2(_CoupledL2, keras.optimizers.Adam):
  """Adam whose weight decay `l2` is added to the gradient (PyTorch's Adam)."""


@keras.saving.register_keras_serializable("l2t_tf")
class Cosine(keras.optimizers.schedules.LearningRateSchedule):
  """Linear warm-up over `warmup_steps`, then cosine from `peak` to 0.

  With `steps_per_epoch` > 1 the cosine moves once per epoch (the reference's
  `CosineAnnealingLR`, stepped at each epoch start: epoch e of E uses
  peak * (1 + cos(pi e / E)) / 2); with 1 it moves every step.
  """

  def __init__(self, peak: float, decay_steps: int, warmup_steps: int = 0,
               steps_per_epoch: int = 1):
    self.peak, self.decay_steps = float(peak), int(decay_steps)
    self.warmup_steps, self.steps_per_epoch = int(warmup_steps), int(steps_per_epoch)

  def __call__(self, step):
    step = ops.cast(step, "float32")
    after = ops.maximum(step - self.warmup_steps, 0.0)
    after = ops.floor(after / self.steps_per_epoch) * self.steps_per_epoch
    progress = ops.minimum(after / max(1, self.decay_steps), 1.0)
    cosine = 0.5 * self.peak * (1.0 + ops.cos(math.pi * progress))
    if not self.warmup_steps:
      return cosine
    warm = self.peak * step / self.warmup_steps
    return ops.where(step < self.warmup_steps, warm, cosine)

  def get_config(self):
    return {"peak": self.peak, "decay_steps": self.decay_steps,
            "warmup_steps": self.warmup_steps,
            "steps_per_epoch": self.steps_per_epoch}


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
  return max(1, math.ceil(num_examples / batch_size))


def target_optimizer(train_config, steps: int) -> SGDL2:
  """SGD, momentum 0.9, weight decay 1e-4, lr 0.1 cosine-annealed over training
  (after an optional linear warm-up, `train.warmup_epochs`: not in the paper)."""
  for field in ("learning_rate", "epochs"):
    if train_config[field] <= 0:
      raise UserError(f"train.{field} must be positive, got {train_config[field]}",
                      f"pass e.g. --config.train.{field}="
                      f"{0.1 if field == 'learning_rate' else 10}")
  if not 0 <= train_config.momentum < 1:
    raise UserError(f"train.momentum must be in [0, 1), got {train_config.momentum}",
                    "use the paper's 0.9")
  if train_config.weight_decay < 0:
    raise UserError(f"train.weight_decay must be >= 0, got "
                    f"{train_config.weight_decay}", "use the paper's 1e-4")
  if not 0 <= train_config.warmup_epochs < train_config.epochs:
    raise UserError(f"train.warmup_epochs must be in [0, train.epochs), got "
                    f"{train_config.warmup_epochs}", "use 0 (the paper) or a few epochs")
  unit = train_config.get("schedule_unit", "step")
  if unit not in SCHEDULE_UNITS:
    raise UserError(f"unknown train.schedule_unit '{unit}'",
                    f"use one of {list(SCHEDULE_UNITS)}")
  warmup = train_config.warmup_epochs * steps
  schedule = Cosine(train_config.learning_rate, train_config.epochs * steps - warmup,
                    warmup, steps if unit == "epoch" else 1)
  return SGDL2(learning_rate=schedule, momentum=train_config.momentum,
               l2=train_config.weight_decay,
               momentum_rule=train_config.get("momentum_rule", "pytorch"))


def meta_optimizer(transfer_config) -> AdamL2:
  """Adam for the meta-networks (lr 1e-4, weight decay 1e-4 in the paper).

  PyTorch's Adam defaults (beta_2 0.999, epsilon 1e-8), as the reference.
  `transfer.meta_beta_2` shortens Adam's memory of squared gradients: with
  0.999 the large meta-gradients of the first epoch keep later steps small.
  """
  if transfer_config.meta_learning_rate <= 0:
    raise UserError(f"transfer.meta_learning_rate must be positive, got "
                    f"{transfer_config.meta_learning_rate}", "use the paper's 1e-4")
  if transfer_config.meta_weight_decay < 0:
    raise UserError(f"transfer.meta_weight_decay must be >= 0, got "
                    f"{transfer_config.meta_weight_decay}", "use the paper's 1e-4")
  beta_2 = transfer_config.get("meta_beta_2", 0.999)
  if not 0.0 <= beta_2 < 1.0:
    raise UserError(f"transfer.meta_beta_2 must be in [0, 1), got {beta_2}",
                    "use 0.999 (the paper, PyTorch's default) or e.g. 0.9")
  return AdamL2(learning_rate=transfer_config.meta_learning_rate,
                l2=transfer_config.meta_weight_decay, beta_2=beta_2, epsilon=1e-8)
