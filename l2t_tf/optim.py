"""Optimizers with PyTorch-style (coupled) weight decay, and their schedules.

The paper trains with PyTorch's SGD/Adam, whose weight decay adds `l2 * w` to
the gradient before momentum. Keras's `weight_decay` is decoupled instead, so
with momentum 0.9 it decays about 10x less; these subclasses keep the paper's
rule, which the look-ahead (`trainers/lookahead.py`) also follows.
"""
import math

import keras
from keras import ops

from l2t_tf.errors import UserError


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
  """SGD (momentum) whose weight decay `l2` is added to the gradient."""


@keras.saving.register_keras_serializable("l2t_tf")
class AdamL2(_CoupledL2, keras.optimizers.Adam):
  """Adam whose weight decay `l2` is added to the gradient (PyTorch's Adam)."""


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
  warmup = train_config.warmup_epochs * steps
  if not 0 <= train_config.warmup_epochs < train_config.epochs:
    raise UserError(f"train.warmup_epochs must be in [0, train.epochs), got "
                    f"{train_config.warmup_epochs}", "use 0 (the paper) or a few epochs")
  # With warm-up: 0 -> learning_rate linearly, then the cosine over the rest.
  schedule = keras.optimizers.schedules.CosineDecay(
      initial_learning_rate=0.0 if warmup else train_config.learning_rate,
      decay_steps=train_config.epochs * steps - warmup,
      warmup_target=train_config.learning_rate if warmup else None,
      warmup_steps=warmup)
  return SGDL2(learning_rate=schedule, momentum=train_config.momentum,
               l2=train_config.weight_decay)


def meta_optimizer(transfer_config) -> AdamL2:
  """Adam for the meta-networks (lr 1e-4, weight decay 1e-4 in the paper)."""
  return AdamL2(learning_rate=transfer_config.meta_learning_rate,
                l2=transfer_config.meta_weight_decay)
