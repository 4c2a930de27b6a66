"""What every trainer shares: the label loss, the gradient step, evaluating the
target alone, and the hooks `train.run` calls on any trainer."""
import dataclasses
from typing import Any

import keras
from keras import ops
import tensorflow as tf


def cross_entropy(labels, logits) -> tf.Tensor:
  """Mean sparse cross-entropy of logits."""
  return ops.mean(keras.losses.sparse_categorical_crossentropy(
      labels, logits, from_logits=True))


def dense(grads, variables) -> list:
  """`grads` with zeros for the variables a loss does not reach (None)."""
  return [ops.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]


def snapshot(variable) -> tf.Tensor:
  """The current value of a (Keras) variable as a plain tensor."""
  return tf.identity(getattr(variable, "value", variable))


def gradient_step(optimizer, tape: tf.GradientTape, loss, variables) -> tf.Tensor:
  """Applies d loss / d variables with `optimizer` (zero for a variable the loss
  does not reach); returns the gradient's global norm, for the logs."""
  grads = dense(tape.gradient(loss, variables), variables)
  optimizer.apply(grads, variables)
  return tf.linalg.global_norm(grads)


def target_test_step(model: keras.Model, data) -> dict:
  """A trainer's `test_step`: loss and accuracy of `model.target` alone, the
  network that gets exported (no regressors, heads or sources)."""
  images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
  logits = model.target(images, training=False)
  model.loss_tracker.update_state(cross_entropy(labels, logits))
  model.accuracy.update_state(labels, logits)
  return {"loss": model.loss_tracker.result(), "accuracy": model.accuracy.result()}


@dataclasses.dataclass
class RunContext:
  """What a trainer's hooks may use of the run `train.run` is making."""
  workdir: str
  log_dir: str
  datasets: Any          # data.pipeline.Datasets
  fresh: bool            # no checkpoint yet: training starts at step 0
  guard: Any = None      # callbacks.StopOnNonFinite
  source_classes: tuple = ()  # l2tl: the source dataset's class names


class Hooks:
  """What a trainer adds to `train.run` beyond Keras's contract. Defaults:
  nothing, which is what a plain Keras model (scratch, finetune) gets."""

  def extra_callbacks(self, context: RunContext) -> list:  # pylint: disable=unused-argument
    """Callbacks `fit` runs for this trainer (chief only), before checkpointing."""
    return []

  def extra_state(self) -> list:
    """Variables a checkpoint holds besides the weights, `optimizer` and metrics."""
    return []

  def trains_target(self) -> bool:
    """Whether the steps now train the target (L2TL's source pre-training does
    not: its training accuracy means nothing then)."""
    return True

  def write_outputs(self, context: RunContext) -> dict:  # pylint: disable=unused-argument
    """Writes this trainer's files at the end; returns entries for results.json."""
    return {}


def hooks(model) -> Hooks:
  """`model`'s hooks, or the defaults for a plain Keras model."""
  return model if isinstance(model, Hooks) else Hooks()
