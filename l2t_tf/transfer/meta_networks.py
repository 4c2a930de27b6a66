"""The meta-networks phi: what (channel weights w) and where (pair weights lambda)."""
from typing import Sequence

import keras
from keras import ops

KINDS = ("networks", "constants")


@keras.saving.register_keras_serializable("l2t_tf")
class MetaNetworks(keras.layers.Layer):
  """Per pair, w = softmax(dense(pool(S^m))) and lambda = relu6(dense(pool(S^m))).

  Args:
    source_channels: channels of each pair's source point.
    learn_what: learn channel weights (else uniform 1/C, as FM).
    learn_where: learn pair weights (else lambda = 1 for every pair).
    kind: 'networks' (per-sample, the paper) or 'constants' (learnable
      meta-weights shared by all samples: the Table 3 ablation).

  Variables are plain weights of this one layer (not sub-layers in a list),
  so checkpoints track them directly.
  """

  def __init__(self, source_channels: Sequence[int], learn_what: bool = True,
               learn_where: bool = True, kind: str = "networks", **kwargs):
    super().__init__(**kwargs)
    if kind not in KINDS:
      raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    self.source_channels = list(source_channels)
    self.learn_what, self.learn_where, self.kind = learn_what, learn_where, kind
    self.what_kernels, self.what_biases = [], []
    self.where_kernels, self.where_biases = [], []
    per_sample = kind == "networks"
    for p, channels in enumerate(self.source_channels):
      if learn_what:
        # Zero init: training starts from uniform channel weights.
        if per_sample:
          self.what_kernels.append(self.add_weight(
              (channels, channels), initializer="zeros", name=f"what_kernel_{p}"))
        self.what_biases.append(self.add_weight(
            (channels,), initializer="zeros", name=f"what_bias_{p}"))
      if learn_where:
        if per_sample:  # PyTorch's default Linear init, as the reference.
          bound = 1.0 / channels ** 0.5
          self.where_kernels.append(self.add_weight(
              (channels, 1), name=f"where_kernel_{p}",
              initializer=keras.initializers.RandomUniform(-bound, bound)))
        # Bias 1: every pair starts fully switched on (lambda = 1).
        self.where_biases.append(self.add_weight(
            (1,), initializer="ones", name=f"where_bias_{p}"))
    self.built = True

  def call(self, pooled_sources):
    """pooled_sources: per pair, the pooled source map [B, C]. Returns (w list, lambda [B, P])."""
    weights, lambdas = [], []
    for p, pooled in enumerate(pooled_sources):
      batch = ops.shape(pooled)[0]
      if self.learn_what:
        logits = self.what_biases[p]
        if self.kind == "networks":
          logits = ops.matmul(pooled, self.what_kernels[p]) + logits
        weights.append(ops.broadcast_to(ops.softmax(logits, axis=-1),
                                        ops.shape(pooled)))
      else:
        weights.append(ops.ones_like(pooled) / pooled.shape[-1])
      if self.learn_where:
        raw = self.where_biases[p]
        if self.kind == "networks":
          raw = ops.matmul(pooled, self.where_kernels[p]) + raw
        lambdas.append(ops.broadcast_to(ops.relu6(raw), (batch, 1)))
      else:
        lambdas.append(ops.ones((batch, 1), pooled.dtype))
    return weights, ops.concatenate(lambdas, axis=1)

  def get_config(self):
    return {**super().get_config(), "source_channels": self.source_channels,
            "learn_what": self.learn_what, "learn_where": self.learn_where,
            "kind": self.kind}
