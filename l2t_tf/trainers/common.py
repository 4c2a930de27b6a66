"""What every trainer shares: the label loss, the gradient step and evaluating
the target alone."""
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
