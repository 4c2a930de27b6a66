"""The meta-networks phi: what (channel weights w) and where (pair weights lambda)."""
import math
from typing import Sequence

import keras
from keras import ops

KINDS = ("networks", "constants")
# Table 3's meta-weights as the official code builds them (--loss-weight-type
# const): lambda = softplus(10 w) with w = 0 at the start (about 0.69).
CONSTANT_SCALE = 10.0
# How the "where" layer starts. reference: the official code (PyTorch's
# default Linear kernel, bias 1), so lambda at step 0 varies per pair and per
# sample (from 0 to above 2 on our sources, unnormalised pooled features);
# neutral: zero kernel, bias 1, so every pair starts at exactly lambda = 1 and
# every difference between pairs is learned.
WHERE_INITS = ("reference", "neutral")
# The "where" output. relu6 (the paper): a pair that reaches 0 gets no
# gradient again; softplus never reaches 0, so no pair can die. Its bias
# starts at log(e - 1), where softplus is 1, as relu6's bias 1. share:
# lambda = P * softmax over the P pairs (per sample, bias 0), so the mean
# lambda stays 1 and phi can only move matching strength between pairs; the
# first-order meta-objective asks for more matching of any useful source
# (docs/results.md, issue #24), which this rules out.
WHERE_ACTIVATIONS = ("relu6", "softplus", "share")
# What the meta-networks read. pooled (the paper): the pooled source map, all
# >= 0 with channel sums of 12-24 on our sources, so one Adam step of size a on
# every kernel entry moves lambda by up to 12-24 a, differently per stage;
# standardised: each sample's pooled vector less its mean over channels,
# divided by its std, so only the bias moves the mean lambda (by <= a a step)
# and the kernel reads the pattern of channels, not their overall size.
META_INPUTS = ("pooled", "standardised")
_WHERE_BIAS_INITS = {"relu6": 1.0, "softplus": math.log(math.e - 1.0), "share": 0.0}


@keras.saving.register_keras_serializable("l2t_tf")
class MetaNetworks(keras.layers.Layer):
  """Per pair, w = softmax(dense(pool(S^m))) and lambda = relu6(dense(pool(S^m)))
  (or softplus, or a share of P over the pairs: WHERE_ACTIVATIONS).

  Args:
    source_channels: channels of each pair's source point.
    learn_what: learn channel weights (else uniform 1/C, as FM).
    learn_where: learn pair weights (else lambda = 1 for every pair).
    kind: 'networks' (per-sample, the paper) or 'constants' (the Table 3
      ablation as the official code runs it: lambda is a learnable constant
      per pair, softplus(10 w) from w = 0, the same for every sample; w stays
      a per-sample network there too, and where_init/where_activation do not
      apply).
    where_init: see WHERE_INITS.
    where_activation: see WHERE_ACTIVATIONS.
    inputs: see META_INPUTS.

  Variables are plain weights of this one layer (not sub-layers in a list),
  so checkpoints track them directly.
  """

  def __init__(self, source_channels: Sequence[int], learn_what: bool = True,
               learn_where: bool = True, kind: str = "networks",
               where_init: str = "reference", where_activation: str = "relu6",
               inputs: str = "pooled", **kwargs):
    super().__init__(**kwargs)
    if kind not in KINDS:
      raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if where_init not in WHERE_INITS:
      raise ValueError(f"where_init must be one of {WHERE_INITS}, got {where_init!r}")
    if where_activation not in WHERE_ACTIVATIONS:
      raise ValueError(f"where_activation must be one of {WHERE_ACTIVATIONS}, "
                       f"got {where_activation!r}")
    if inputs not in META_INPUTS:
      raise ValueError(f"inputs must be one of {META_INPUTS}, got {inputs!r}")
    self.where_init, self.where_activation = where_init, where_activation
    self.inputs = inputs
    self.source_channels = list(source_channels)
    self.learn_what, self.learn_where, self.kind = learn_what, learn_where, kind
    self.what_kernels, self.what_biases = [], []
    self.where_kernels, self.where_biases = [], []
    for p, channels in enumerate(self.source_channels):
      if learn_what:
        # Zero init: training starts from uniform channel weights.
        self.what_kernels.append(self.add_weight(
            (channels, channels), initializer="zeros", name=f"what_kernel_{p}"))
        self.what_biases.append(self.add_weight(
            (channels,), initializer="zeros", name=f"what_bias_{p}"))
      if learn_where and kind == "constants":
        self.where_biases.append(self.add_weight(
            (1,), name=f"where_constant_{p}", initializer="zeros"))
      elif learn_where:
        bound = 1.0 / channels ** 0.5  # PyTorch's default Linear kernel
        self.where_kernels.append(self.add_weight(
            (channels, 1), name=f"where_kernel_{p}",
            initializer="zeros" if where_init == "neutral"
            else keras.initializers.RandomUniform(-bound, bound)))
        # lambda = 1 where the kernel contributes nothing.
        self.where_biases.append(self.add_weight(
            (1,), name=f"where_bias_{p}", initializer=keras.initializers.Constant(
                _WHERE_BIAS_INITS[where_activation])))
    self.built = True

  def pair_of_variables(self) -> list[int]:
    """The pair index of each trainable variable, in `trainable_variables` order."""
    return [int(v.name.rsplit("_", 1)[1]) for v in self.trainable_variables]

  def call(self, pooled_sources):
    """pooled_sources: per pair, the pooled source map [B, C]. Returns (w list, lambda [B, P])."""
    weights, lambdas = [], []
    for p, pooled in enumerate(pooled_sources):
      batch = ops.shape(pooled)[0]
      if self.inputs == "standardised":
        centred = pooled - ops.mean(pooled, axis=-1, keepdims=True)
        pooled = centred / (ops.std(pooled, axis=-1, keepdims=True) + 1e-5)
      if self.learn_what:
        logits = ops.matmul(pooled, self.what_kernels[p]) + self.what_biases[p]
        weights.append(ops.broadcast_to(ops.softmax(logits, axis=-1),
                                        ops.shape(pooled)))
      else:
        weights.append(ops.ones_like(pooled) / pooled.shape[-1])
      if self.learn_where:
        if self.kind == "constants":
          value = ops.softplus(CONSTANT_SCALE * self.where_biases[p])
        else:
          value = ops.matmul(pooled, self.where_kernels[p]) + self.where_biases[p]
        lambdas.append(ops.broadcast_to(value, (batch, 1)))
      else:
        lambdas.append(ops.ones((batch, 1), pooled.dtype))
    lambdas = ops.concatenate(lambdas, axis=1)
    if self.learn_where and self.kind != "constants":
      if self.where_activation == "share":
        lambdas = len(self.source_channels) * ops.softmax(lambdas, axis=1)
      else:
        lambdas = (ops.relu6 if self.where_activation == "relu6"
                   else ops.softplus)(lambdas)
    return weights, lambdas

  def get_config(self):
    return {**super().get_config(), "source_channels": self.source_channels,
            "learn_what": self.learn_what, "learn_where": self.learn_where,
            "kind": self.kind, "where_init": self.where_init,
            "where_activation": self.where_activation, "inputs": self.inputs}
