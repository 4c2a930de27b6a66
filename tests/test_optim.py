"""The target optimizer's learning-rate schedule, with and without warm-up."""
import pytest

from configs import common
from l2t_tf import optim
from l2t_tf.errors import UserError


def _rates(warmup_epochs, at):
  train = common.get_base_config().train
  train.update(learning_rate=0.1, epochs=10, warmup_epochs=warmup_epochs)
  schedule = optim.target_optimizer(train, steps=5)._learning_rate  # pylint: disable=protected-access
  return [float(schedule(step)) for step in at]


def test_the_papers_cosine_without_warm_up():
  assert _rates(0, [0, 25, 50]) == pytest.approx([0.1, 0.05, 0.0], abs=1e-7)


def test_warm_up_is_linear_then_the_cosine_over_the_rest():
  # 2 epochs of 5 steps: 0 -> 0.1 over 10 steps, then cosine over 40 steps.
  assert _rates(2, [0, 5, 10, 30, 50]) == pytest.approx(
      [0.0, 0.05, 0.1, 0.05, 0.0], abs=1e-7)


def test_warm_up_longer_than_training_is_refused():
  with pytest.raises(UserError, match="warmup_epochs"):
    _rates(10, [0])
