"""The target optimizer: its momentum rules and learning-rate schedules, by hand."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from configs import common
from l2t_tf import optim
from l2t_tf.errors import UserError
from l2t_tf.trainers import lookahead


def _rates(warmup_epochs, at, unit="step"):
  train = common.get_base_config().train
  train.update(learning_rate=0.1, epochs=10, warmup_epochs=warmup_epochs,
               schedule_unit=unit)
  schedule = optim.target_optimizer(train, steps=5)._learning_rate  # pylint: disable=protected-access
  return [float(schedule(step)) for step in at]


def test_the_papers_cosine_without_warm_up():
  assert _rates(0, [0, 25, 50]) == pytest.approx([0.1, 0.05, 0.0], abs=1e-7)


def test_warm_up_is_linear_then_the_cosine_over_the_rest():
  # 2 epochs of 5 steps: 0 -> 0.1 over 10 steps, then cosine over 40 steps.
  assert _rates(2, [0, 5, 10, 30, 50]) == pytest.approx(
      [0.0, 0.05, 0.1, 0.05, 0.0], abs=1e-7)


def test_cosine_per_epoch_holds_within_an_epoch():
  # The reference's CosineAnnealingLR stepped at each epoch start: epoch e of 10
  # uses 0.1 * (1 + cos(pi e / 10)) / 2 for all of its 5 steps.
  epoch1 = 0.05 * (1 + math.cos(math.pi / 10))
  assert _rates(0, [0, 4, 5, 9, 25, 49], "epoch") == pytest.approx(
      [0.1, 0.1, epoch1, epoch1, 0.05, 0.05 * (1 + math.cos(math.pi * 0.9))],
      abs=1e-7)


def test_warm_up_longer_than_training_is_refused():
  with pytest.raises(UserError, match="warmup_epochs"):
    _rates(10, [0])


class _Steps(keras.optimizers.schedules.LearningRateSchedule):
  """A learning rate that changes at every step: 0.3, 0.2, 0.1, 0.05."""
  RATES = (0.3, 0.2, 0.1, 0.05)

  def __call__(self, step):
    return tf.gather(tf.constant(self.RATES), tf.cast(step, tf.int32))


def _by_hand(rule, w, gradient_of, momentum=0.9, l2=0.01):
  """The update written out with numpy, one step per rate of `_Steps`."""
  v = np.zeros_like(w)
  for lr in _Steps.RATES:
    g = gradient_of(w) + l2 * w
    if rule == "pytorch":  # torch.optim.SGD: buf = m buf + g; p -= lr buf
      v = momentum * v + g
      w = w - lr * v
    else:                  # keras.optimizers.SGD: v = m v - lr g; p += v
      v = momentum * v - lr * g
      w = w + v
  return w, v


def _gradient_of(w):  # of 0.5 * sum(a * w^2)
  return np.array([1.0, -2.0, 3.0]) * w


@pytest.mark.parametrize("rule", optim.MOMENTUM_RULES)
def test_sgd_follows_its_rule_under_a_changing_learning_rate(rule):
  w0 = np.array([1.0, 2.0, -0.5], np.float32)
  variable = keras.Variable(w0)
  optimizer = optim.SGDL2(learning_rate=_Steps(), momentum=0.9, l2=0.01,
                          momentum_rule=rule)
  optimizer.build([variable])
  for _ in _Steps.RATES:
    optimizer.apply([tf.constant(_gradient_of(variable.numpy()), tf.float32)],
                    [variable])
  w, v = _by_hand(rule, w0.astype(np.float64), _gradient_of)
  np.testing.assert_allclose(variable.numpy(), w, rtol=1e-5)
  np.testing.assert_allclose(optimizer.momentums[0].numpy(), v, rtol=1e-5)


def test_the_two_rules_differ_only_when_the_rate_changes():
  w0 = np.array([1.0, 2.0, -0.5])
  torch_w, _ = _by_hand("pytorch", w0, _gradient_of)
  keras_w, _ = _by_hand("keras", w0, _gradient_of)
  assert np.abs(torch_w - keras_w).max() > 1e-2
  _Steps.RATES, saved = (0.1,) * 4, _Steps.RATES
  try:
    np.testing.assert_allclose(_by_hand("pytorch", w0, _gradient_of)[0],
                               _by_hand("keras", w0, _gradient_of)[0])
  finally:
    _Steps.RATES = saved


@pytest.mark.parametrize("rule", optim.MOMENTUM_RULES)
def test_the_lookahead_step_is_the_optimizers_step(rule):
  """The meta-gradient's look-ahead must move theta as the real optimizer does."""
  rng = np.random.RandomState(0)
  w0, v0, g = (rng.normal(size=4).astype(np.float32) for _ in range(3))
  variable = keras.Variable(w0)
  optimizer = optim.SGDL2(learning_rate=0.2, momentum=0.9, l2=0.01,
                          momentum_rule=rule)
  optimizer.build([variable])
  optimizer.momentums[0].assign(v0)
  optimizer.apply([tf.constant(g)], [variable])
  (w1,), (v1,) = lookahead.sgd_step([tf.constant(w0)], [tf.constant(v0)],
                                    [tf.constant(g)], 0.2, 0.9, 0.01, rule)
  np.testing.assert_allclose(w1.numpy(), variable.numpy(), rtol=1e-6)
  np.testing.assert_allclose(v1.numpy(), optimizer.momentums[0].numpy(), rtol=1e-6)


def test_unknown_momentum_rule_is_refused():
  with pytest.raises(UserError, match="momentum_rule"):
    optim.SGDL2(learning_rate=0.1, momentum=0.9, momentum_rule="nesterov")


def test_unknown_schedule_unit_is_refused():
  train = common.get_base_config().train
  train.schedule_unit = "batch"
  with pytest.raises(UserError, match="schedule_unit"):
    optim.target_optimizer(train, steps=5)
