"""Attention transfer (Zagoruyko & Komodakis, 2017) and Jacobian matching
(Srinivas & Fleuret, 2018) as pure functions of tensors: baselines of issue #4."""
from typing import Callable

import tensorflow as tf
from keras import ops


def attention_map(features: tf.Tensor, p: int = 2) -> tf.Tensor:
  """Spatial attention Q = vec(mean_c |A|^p), L2-normalised per sample. [B, H*W]"""
  q = ops.mean(ops.abs(features) ** p, axis=-1)
  q = ops.reshape(q, (ops.shape(q)[0], -1))
  return q / ops.maximum(ops.norm(q, axis=-1, keepdims=True), 1e-12)


def attention_loss(target_features: tf.Tensor, source_features: tf.Tensor,
                   p: int = 2) -> tf.Tensor:
  """Mean over samples and positions of (Q_T - Q_S)^2, as the AT reference code.

  The two maps must have the same spatial size (the one-to-one pairs).
  """
  difference = attention_map(target_features, p) - attention_map(source_features, p)
  return ops.mean(ops.square(difference))


def _normalised_input_gradient(images: tf.Tensor,
                               features_fn: Callable[[tf.Tensor], tf.Tensor],
                               p: int) -> tf.Tensor:
  """d max(Q(x)) / dx per sample (unnormalised attention), L2-normalised. [B, -1]"""
  with tf.GradientTape() as tape:
    tape.watch(images)
    q = ops.mean(ops.abs(features_fn(images)) ** p, axis=-1)
    peak = ops.sum(ops.max(ops.reshape(q, (ops.shape(q)[0], -1)), axis=-1))
  gradient = tape.gradient(peak, images)
  gradient = ops.reshape(gradient, (ops.shape(gradient)[0], -1))
  return gradient / ops.maximum(ops.norm(gradient, axis=-1, keepdims=True), 1e-12)


def jacobian_loss(images: tf.Tensor, target_fn, source_fn, p: int = 2) -> tf.Tensor:
  """Jacobian matching on attention maps: per sample, the squared distance between
  the normalised input gradients of the largest attention value of target and
  source, averaged over the batch. The source side is a constant."""
  target = _normalised_input_gradient(images, target_fn, p)
  source = tf.stop_gradient(_normalised_input_gradient(images, source_fn, p))
  return ops.mean(ops.sum(ops.square(target - source), axis=-1))
