"""HandCrafted: the target trained with fixed, hand-chosen transfer losses.

The baselines of the paper's Table 1, one trainer with switches:
  lwf  an extra head for the source's classes, distilled from the source's
       softened outputs (Li & Hoiem);
  at   attention maps matched on same-size (one-to-one) pairs (Zagoruyko &
       Komodakis);
  jm   Jacobians of the largest attention value matched on those pairs
       (Srinivas & Fleuret), on top of AT;
  kd   the target's own outputs distilled from a same-task source (Hinton).
"""
from typing import Sequence

import keras
from keras import ops
import tensorflow as tf

from l2t_tf import hooks
from l2t_tf.trainers import common
from l2t_tf.transfer import attention, distillation
from l2t_tf.transfer.pairs import Pair



class HandCrafted(hooks.Hooks, keras.Model):
  """Args:
    target: the target backbone (what gets exported).
    source: frozen feature extractor x -> [logits, S^1, S^2, ...].
    pairs: same-size pairs for AT / JM (may be empty for LwF / KD).
    weights: {'at', 'jm', 'lwf', 'kd'} -> loss weight (0 switches it off).
    temperature: of the softened outputs (LwF, KD).
  """

  def __init__(self, target: keras.Model, source: keras.Model,
               pairs: Sequence[Pair], weights: dict, temperature: float = 2.0,
               **kwargs):
    super().__init__(**kwargs)
    self.target, self.source = target, source
    self.source.trainable = False
    self.pairs = list(pairs)
    self.transfer_weights = {k: float(weights.get(k, 0.0)) for k in ("at", "jm", "lwf", "kd")}
    self.temperature = temperature
    points = [target.get_layer(p.target.name).output for p in self.pairs]
    outputs = [target.output, *points]
    if self.transfer_weights["lwf"]:
      # LwF's old-task head on the target's penultimate features (the input
      # of its classifier, the last layer).
      penultimate = target.layers[-1].input
      outputs.append(keras.layers.Dense(source.outputs[0].shape[-1],
                                        name="lwf_head")(penultimate))
    self.with_heads = keras.Model(target.input, outputs, name="target_with_heads")
    self.point_models = [keras.Model(target.input, p) for p in points]
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.transfer_tracker = keras.metrics.Mean(name="loss_transfer")
    self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    self.grad_norm = keras.metrics.Mean(name="grad_norm")

  def call(self, images, training=False):
    return self.target(images, training=training)

  @property
  def metrics(self):
    return [self.loss_tracker, self.transfer_tracker, self.accuracy, self.grad_norm]

  def train_step(self, data):
    images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
    source_logits, *source_maps = self.source(images, training=False)
    theta = self.with_heads.trainable_variables
    with tf.GradientTape() as tape:
      logits, *rest = self._with_heads_outputs(images)
      transfer = self.transfer_loss(images, source_logits, source_maps, logits, rest)
      loss_target = common.cross_entropy(labels, logits)
      loss = (loss_target + transfer) / tf.distribute.get_strategy().num_replicas_in_sync
    self.grad_norm.update_state(
        common.gradient_step(self.optimizer, tape, loss, theta))
    self.loss_tracker.update_state(loss_target + transfer)
    self.transfer_tracker.update_state(transfer)
    self.accuracy.update_state(labels, logits)
    return {m.name: m.result() for m in self.metrics}

  def _with_heads_outputs(self, images) -> list:
    """[logits, target maps per pair, (lwf head)]; a list even when it is logits alone."""
    outputs = self.with_heads(images, training=True)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

  def test_step(self, data):
    return common.target_test_step(self, data)

  def transfer_loss(self, images, source_logits, source_maps, logits, rest):
    """The weighted sum of the switched-on hand-crafted losses."""
    w = self.transfer_weights
    points = rest[:len(self.pairs)]
    total = tf.constant(0.0)
    by_name = dict(zip(self.source.output_names[1:], source_maps))
    for pair, target_map, point_model in zip(self.pairs, points, self.point_models):
      source_map = ops.stop_gradient(by_name[pair.source.name])
      if w["at"]:  # AT's reference weights each pair by beta / 2
        total += w["at"] / 2 * attention.attention_loss(target_map, source_map)
      if w["jm"]:
        index = self.source.output_names.index(pair.source.name)
        total += w["jm"] * attention.jacobian_loss(
            images, lambda x, m=point_model: m(x, training=True),
            lambda x, i=index: self.source(x, training=False)[i])
    if w["lwf"]:
      total += w["lwf"] * distillation.distillation_loss(
          rest[len(self.pairs)], source_logits, self.temperature, t_squared=False)
    if w["kd"]:
      total += w["kd"] * distillation.distillation_loss(
          logits, source_logits, self.temperature)
    return total
