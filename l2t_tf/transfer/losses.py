"""Transfer losses as pure functions of tensors."""
from typing import Sequence

import tensorflow as tf
from keras import ops


def resize_like(source_map: tf.Tensor, height: int, width: int) -> tf.Tensor:
  """Bilinear resize of a [B, H, W, C] source map to the target's spatial size."""
  if source_map.shape[1] == height and source_map.shape[2] == width:
    return source_map
  resized = tf.image.resize(source_map, (height, width), method="bilinear")
  return tf.cast(resized, source_map.dtype)  # resize always returns float32


def channel_distances(regressed: tf.Tensor, source: tf.Tensor) -> tf.Tensor:
  """d_c: per sample and channel, the spatial mean of the squared difference. [B, C]"""
  return ops.mean(ops.square(regressed - source), axis=(1, 2))


def weighted_feature_matching(regressed: Sequence[tf.Tensor],
                              source_maps: Sequence[tf.Tensor],
                              channel_weights: Sequence[tf.Tensor],
                              pair_weights: tf.Tensor, beta: float):
  """L_wfm = beta * sum over pairs of batch-mean(lambda * sum_c w_c d_c).

  Args:
    regressed: per pair, r(T^n(x)) [B, H, W, C_source].
    source_maps: per pair, S^m(x) resized to [B, H, W, C_source].
    channel_weights: per pair, w [B, C_source] (rows sum to 1).
    pair_weights: lambda [B, num_pairs].
    beta: the transfer loss weight.
  Returns:
    (L_wfm, per-pair loss [num_pairs]) as batch means.
  """
  return weighted_sum([channel_distances(r, s) for r, s in zip(regressed, source_maps)],
                      channel_weights, pair_weights, beta)


def weighted_sum(distances: Sequence[tf.Tensor], channel_weights: Sequence[tf.Tensor],
                 pair_weights: tf.Tensor, beta: float):
  """beta * sum over pairs of batch-mean(lambda * sum_c w_c d_c), from per pair
  d [B, C]: L_wfm from the distances, or its slope along a direction in
  theta from the distances' slopes (L_wfm is linear in them)."""
  per_pair = []
  for p, (d, w) in enumerate(zip(distances, channel_weights)):
    per_pair.append(ops.mean(pair_weights[:, p] * ops.sum(w * d, axis=1)))
  per_pair = ops.stack(per_pair)
  return beta * ops.sum(per_pair), per_pair
