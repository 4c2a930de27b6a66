"""LearnedTransfer: the target trained with weighted feature matching (Algorithm 1).

One `train_step` per mini-batch:
  (1) update theta (target + regressors) on L_total = CE + L_wfm with SGD;
  (2) from the new theta, a stateless look-ahead: T steps on L_wfm, then one
      CE step (the paper's 3-stage scheme; '2-stage' does T steps on L_total);
  (3) update phi (meta-networks) with Adam on grad_phi CE(theta_{T+1}).
The look-ahead touches no variable: theta, BatchNorm moving statistics and
optimizer slots keep the values that step (1) gave them.
FM and L2T-w are the same trainer with fixed pair and/or channel weights.
"""
from typing import Sequence

import keras
from keras import ops
import tensorflow as tf

from l2t_tf import hooks
from l2t_tf.trainers import common, lookahead
from l2t_tf.transfer import losses
from l2t_tf.transfer.meta_networks import MetaNetworks
from l2t_tf.transfer.pairs import Pair

SCHEMES = ("three_stage", "two_stage")
META_OBJECTIVES = ("lookahead", "heldout_lookahead", "alignment")



class LearnedTransfer(hooks.Hooks, keras.Model):
  """Trains `target` with knowledge from frozen `sources`, as L2T-ww (and FM, L2T-w).

  Args:
    target: the target backbone (what gets exported).
    with_regressors: the target plus 1x1-conv regressors: x -> [logits, r(T^n) per pair].
    sources: frozen feature extractors x -> [logits, S^m ...], one per source.
    pairs: the matching pairs, aligned with with_regressors' regressor outputs.
    meta_networks: phi.
    beta: weight of the transfer loss.
    inner_steps: T, the look-ahead steps on the transfer loss.
    scheme: 'three_stage' (the paper) or 'two_stage' (Table 4's original bilevel).
    meta_every: compute the meta step every k-th batch (1 = the paper).
    meta_start: no meta step before this many batches (0 = the paper): phi
      then skips the first steps, whose large look-ahead gradients reward
      whatever disturbs the untrained target least.
    first_order: approximate the look-ahead to first order (see
      `_lookahead_step`); False is the paper's exact second-order meta-gradient.
    freeze_meta: keep phi at its initial values (no meta step): the ablation
      that tells learned weights from the random weighting they start at.
    meta_objective: 'lookahead' (the paper: CE on the training batch after
      the look-ahead), 'heldout_lookahead' (the same look-ahead, CE on the
      held-out `meta_set`) or 'alignment' (`alignment_gradient`: first order,
      on the `meta_set`).
    meta_set: (images, labels) held out for the meta-objective.
    placebo: apply the meta-gradient with its sign flipped: the same drift
      with the signal reversed, the control that tells learning from drift.
    lookahead_lr: the look-ahead's step size; 0 = the optimizer's current
      (decayed) rate, the paper's.

  Besides the losses, each step logs the norm of theta's gradient
  (`grad_norm`) and of phi's meta-gradient (`meta_grad_norm`, and per pair
  `meta_grad_norm/<pair>`); per pair, the mean and std of lambda over the
  epoch's batches (`train_lambda/<pair>`, `train_lambda_std/<pair>`) and the
  signed meta-gradient of the
  "where" bias (`hypergrad/<pair>`: > 0 means the meta-objective pushes lambda
  down) and its signal-to-noise over the epoch's steps (`hypergrad_snr/<pair>`,
  |mean| / std). `reports.learned_transfer` moves the per-pair values out of
  the console line into TensorBoard and `meta_trace.json`.
  """

  def __init__(self, target: keras.Model, with_regressors: keras.Model,
               sources: Sequence[keras.Model], pairs: Sequence[Pair],
               meta_networks: MetaNetworks, beta: float = 0.5,
               inner_steps: int = 2, scheme: str = "three_stage",
               meta_every: int = 1, first_order: bool = False,
               freeze_meta: bool = False, meta_start: int = 0,
               meta_objective: str = "lookahead", meta_set=None,
               placebo: bool = False, lookahead_lr: float = 0.0, **kwargs):
    super().__init__(**kwargs)
    if scheme not in SCHEMES:
      raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if meta_objective not in META_OBJECTIVES:
      raise ValueError(f"meta_objective must be one of {META_OBJECTIVES}")
    if meta_objective != "lookahead" and meta_set is None:
      raise ValueError(f"meta_objective={meta_objective!r} needs a meta_set")
    self.objective, self.placebo = meta_objective, placebo
    self.lookahead_lr = lookahead_lr
    self.meta_set = None if meta_set is None else tuple(
        tf.constant(x) for x in meta_set)
    self.target, self.with_regressors = target, with_regressors
    self.sources = list(sources)
    for source in self.sources:
      source.trainable = False
    self.pairs = list(pairs)
    self.meta_networks = meta_networks
    self.beta, self.inner_steps, self.scheme = beta, inner_steps, scheme
    self.meta_every, self.first_order = meta_every, first_order
    self.meta_start = meta_start
    self.learns_meta = bool(meta_networks.trainable_variables) and not freeze_meta
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.target_tracker = keras.metrics.Mean(name="loss_target")
    self.wfm_tracker = keras.metrics.Mean(name="loss_wfm")
    self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    self.grad_norm = keras.metrics.Mean(name="grad_norm")
    self.meta_grad_norm = keras.metrics.Mean(name="meta_grad_norm")
    self.pair_meta_grad_norms = [keras.metrics.Mean(name=f"meta_grad_norm/{p.label}")
                                 for p in self.pairs]
    self.hypergrads = [keras.metrics.Mean(name=f"hypergrad/{p.label}")
                       for p in self.pairs]
    self.hypergrad_squares = [keras.metrics.Mean(name=f"hypergrad_sq/{p.label}")
                              for p in self.pairs]
    self.lambda_means = [keras.metrics.Mean(name=f"train_lambda/{p.label}")
                         for p in self.pairs]
    self.lambda_squares = [keras.metrics.Mean(name=f"train_lambda_sq/{p.label}")
                           for p in self.pairs]

  # -- Keras contract -------------------------------------------------------
  def call(self, images, training=False):
    return self.target(images, training=training)

  def compile(self, optimizer, meta_optimizer, jit_compile: bool = False):
    """`optimizer` trains theta (target + regressors); `meta_optimizer` trains phi.

    Both are built here, inside the strategy scope, on exactly their own
    variables (a lazy build inside `fit` fails under MirroredStrategy).
    """
    super().compile(optimizer=optimizer, jit_compile=jit_compile)
    self.meta_optimizer = meta_optimizer
    optimizer.build(self.with_regressors.trainable_variables)
    meta_optimizer.build(self.meta_networks.trainable_variables)

  @property
  def metrics(self):
    return [self.loss_tracker, self.target_tracker, self.wfm_tracker, self.accuracy,
            self.grad_norm, self.meta_grad_norm, *self.pair_meta_grad_norms,
            *self.hypergrads, *self.hypergrad_squares,
            *self.lambda_means, *self.lambda_squares]

  def train_step(self, data):
    images, labels = data
    source_maps, pooled = self.source_features(images)
    channel_weights, pair_weights = self.meta_networks(pooled)
    learning_rate = (self.lookahead_lr or
                     self.optimizer.learning_rate)  # before step (1) moves it on

    # (1) The real update of theta on L_total = CE + L_wfm.
    theta = self.with_regressors.trainable_variables
    with tf.GradientTape() as tape:
      logits, *regressed = self.with_regressors(images, training=True)
      loss_target = common.cross_entropy(labels, logits)
      loss_wfm, _ = losses.weighted_feature_matching(
          regressed, source_maps, channel_weights, pair_weights, self.beta)
      loss = (loss_target + loss_wfm) / self._replicas()
    self.grad_norm.update_state(
        common.gradient_step(self.optimizer, tape, loss, theta))

    # (2)-(3) The meta step on phi through a stateless look-ahead.
    if self.learns_meta:
      def meta_update():
        meta_grads = self.estimate(images, labels, source_maps, pooled,
                                   learning_rate)
        if self.placebo:
          meta_grads = [-g for g in meta_grads]
        self.meta_optimizer.apply(meta_grads,
                                  self.meta_networks.trainable_variables)
        return self._pair_norms(meta_grads), self._where_grads(meta_grads)
      if self.meta_every == 1 and not self.meta_start:
        (norms, where), weight = meta_update(), 1.0
      else:
        step = self.optimizer.iterations  # already counts step (1)
        due = ((step % self.meta_every == 1 % self.meta_every)
               & (step > self.meta_start))
        zeros = tf.zeros(len(self.pairs))
        norms, where = tf.cond(due, meta_update, lambda: (zeros, zeros))
        weight = tf.cast(due, tf.float32)
      self.meta_grad_norm.update_state(ops.sqrt(ops.sum(ops.square(norms))),
                                       sample_weight=weight)
      for p in range(len(self.pairs)):
        self.pair_meta_grad_norms[p].update_state(norms[p], sample_weight=weight)
        self.hypergrads[p].update_state(where[p], sample_weight=weight)
        self.hypergrad_squares[p].update_state(ops.square(where[p]),
                                               sample_weight=weight)

    self._update_metrics(loss_target, loss_wfm, labels, logits, pair_weights)
    return {m.name: m.result() for m in self.metrics
            if not m.name.startswith(("train_lambda_sq/", "hypergrad_sq/"))
            } | self._lambda_stds() | self._hypergrad_snrs()

  def test_step(self, data):
    return common.target_test_step(self, data)

  # -- Hooks for train.run ---------------------------------------------------
  def extra_state(self) -> list:
    return list(self.meta_optimizer.variables)

  # -- The pieces of Algorithm 1 ---------------------------------------------
  def source_features(self, images, stop_gradient: bool = True):
    """Per pair, the source map resized to the target's size and its pooled vector.

    Computed once per batch and reused by every look-ahead step: the sources
    are frozen, so their features do not depend on theta or phi. (Saliency
    maps keep the gradient to the images: `stop_gradient=False`.)
    """
    maps = [dict(zip(source.output_names[1:], source(images, training=False)[1:]))
            for source in self.sources]  # per source, {feature point name: map}
    resized, pooled = [], []
    for pair in self.pairs:
      source_map = maps[pair.source.network][pair.source.name]
      if stop_gradient:
        source_map = ops.stop_gradient(source_map)
      height, width = pair.target.shape[:2]
      resized.append(losses.resize_like(source_map, height, width))
      pooled.append(ops.mean(source_map, axis=(1, 2)))
    return resized, pooled

  def estimate(self, images, labels, source_maps, pooled, learning_rate):
    """phi's meta-gradient on this batch, by the configured meta-objective."""
    if self.objective == "alignment":
      return self.alignment_gradient(images, source_maps, pooled)
    return self.meta_gradient(images, labels, source_maps, pooled, learning_rate)

  def meta_gradient(self, images, labels, source_maps, pooled, learning_rate):
    """grad_phi of `meta_objective`, through the T + 1 look-ahead steps (second order)."""
    phi = self.meta_networks.trainable_variables
    with tf.GradientTape() as meta_tape:
      meta_loss = self.meta_objective(images, labels, source_maps, pooled,
                                      learning_rate)
    grads = meta_tape.gradient(meta_loss, phi)
    return common.dense(grads, phi)

  def meta_objective(self, images, labels, source_maps, pooled, learning_rate):
    """CE(theta_{T+1}(phi)): the label loss after the look-ahead from the current
    theta, on the training batch (the paper) or on the held-out meta set."""
    theta0 = [common.snapshot(v) for v in self.with_regressors.trainable_variables]
    velocity0 = [common.snapshot(self._velocity(v))
                 for v in self.with_regressors.trainable_variables]
    # BatchNorm runs in training mode from the current statistics; the updated
    # statistics returned by stateless_call are dropped on purpose.
    statistics = [common.snapshot(v) for v in self.with_regressors.non_trainable_variables]
    replicas = self._replicas()
    channel_weights, pair_weights = self.meta_networks(pooled)

    def forward(params):
      outputs, _ = self.with_regressors.stateless_call(params, statistics, images,
                                               training=True)
      return outputs[0], outputs[1:]

    def transfer_loss(params):
      logits, regressed = forward(params)
      loss, _ = losses.weighted_feature_matching(
          regressed, source_maps, channel_weights, pair_weights, self.beta)
      if self.scheme == "two_stage":
        loss += common.cross_entropy(labels, logits)
      return loss / replicas

    def label_loss(params):
      return common.cross_entropy(labels, forward(params)[0]) / replicas

    params, velocity = theta0, velocity0
    for _ in range(self.inner_steps):
      params, velocity = self._lookahead_step(transfer_loss, params, velocity,
                                              learning_rate)
    if self.scheme == "three_stage":
      params, velocity = self._lookahead_step(label_loss, params, velocity,
                                              learning_rate)
    if self.objective == "heldout_lookahead":
      return self._meta_set_loss(params, statistics)
    return label_loss(params)

  def _meta_set_loss(self, params, statistics):
    """CE on the held-out meta set at `params` (BatchNorm in training mode, as
    every look-ahead forward pass)."""
    images, labels = self.meta_set
    outputs, _ = self.with_regressors.stateless_call(params, statistics, images,
                                                     training=True)
    return common.cross_entropy(labels, outputs[0]) / self._replicas()

  def alignment_gradient(self, images, source_maps, pooled):
    """grad_phi of -<grad_theta CE_meta, grad_theta L_wfm(phi)> at the current theta.

    To first order, one SGD step of size a on L_wfm changes the meta set's
    cross-entropy by -a <grad CE_meta, grad L_wfm>, so this is the meta-gradient
    of CE_meta after one step, per unit step size (independent of the decayed
    learning rate). L_wfm is linear in lambda * w, so the inner product needs
    only the slopes of the channel distances d along u = grad CE_meta: one
    forward-mode pass, whatever the number of pairs and channels.
    """
    theta = [common.snapshot(v) for v in self.with_regressors.trainable_variables]
    statistics = [common.snapshot(v) for v in self.with_regressors.non_trainable_variables]
    replicas = self._replicas()
    direction = lookahead.gradients(
        lambda params: self._meta_set_loss(params, statistics), theta)
    with tf.autodiff.ForwardAccumulator(theta, direction) as accumulator:
      outputs, _ = self.with_regressors.stateless_call(theta, statistics, images,
                                                       training=True)
      distances = [losses.channel_distances(r, s)
                   for r, s in zip(outputs[1:], source_maps)]
    slopes = [tf.stop_gradient(accumulator.jvp(
        d, unconnected_gradients=tf.UnconnectedGradients.ZERO)) for d in distances]
    phi = self.meta_networks.trainable_variables
    with tf.GradientTape() as tape:
      channel_weights, pair_weights = self.meta_networks(pooled)
      alignment, _ = losses.weighted_sum(slopes, channel_weights, pair_weights,
                                         self.beta)
      objective = -alignment / replicas
    grads = tape.gradient(objective, phi)
    return common.dense(grads, phi)

  def _lookahead_step(self, loss_fn, params, velocity, learning_rate):
    # First order: each step's gradient is taken at a stopped copy of theta_t,
    # i.e. d theta_{t+1} / d theta_t ~ I. phi still reaches theta_{T+1} through
    # every L_wfm gradient (and the momentum that carries it), but the meta
    # backward no longer runs Hessian-vector products along the chain of steps.
    point = [tf.stop_gradient(p) for p in params] if self.first_order else params
    grads = lookahead.gradients(loss_fn, point)
    return lookahead.sgd_step(params, velocity, grads, learning_rate,
                              self.optimizer.momentum, self.optimizer.l2,
                              self.optimizer.momentum_rule)

  def _pair_norms(self, meta_grads) -> tf.Tensor:
    """Per pair, the norm of the meta-gradient of its phi variables. [pairs]"""
    squares = [0.0] * len(self.pairs)
    for p, g in zip(self.meta_networks.pair_of_variables(), meta_grads):
      squares[p] += ops.sum(ops.square(ops.cast(g, "float32")))
    return ops.sqrt(ops.stack([ops.convert_to_tensor(x, "float32")
                               for x in squares]))

  def _where_grads(self, meta_grads) -> tf.Tensor:
    """Per pair, the meta-gradient of its "where" bias (0 without one). [pairs]"""
    where = [ops.zeros((), "float32")] * len(self.pairs)
    for v, g in zip(self.meta_networks.trainable_variables, meta_grads):
      if v.name.startswith("where_bias_"):
        where[int(v.name.rsplit("_", 1)[1])] = ops.sum(ops.cast(g, "float32"))
    return ops.stack(where)

  def _hypergrad_snrs(self) -> dict:
    """Per pair, |mean| / std of the "where" meta-gradient over the epoch's steps."""
    snrs = {}
    for pair, mean, square in zip(self.pairs, self.hypergrads,
                                  self.hypergrad_squares):
      std = ops.sqrt(ops.maximum(square.result() - ops.square(mean.result()), 0.0))
      snrs[f"hypergrad_snr/{pair.label}"] = ops.abs(mean.result()) / (std + 1e-12)
    return snrs

  def _velocity(self, variable):
    """The target optimizer's momentum slot for `variable` (read, never written)."""
    if not self.optimizer.momentum:
      return ops.zeros_like(variable)
    return self.optimizer.momentums[self.optimizer._get_variable_index(variable)]  # pylint: disable=protected-access

  def _replicas(self) -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync

  def _update_metrics(self, loss_target, loss_wfm, labels, logits, pair_weights):
    self.loss_tracker.update_state(loss_target + loss_wfm)
    self.target_tracker.update_state(loss_target)
    self.wfm_tracker.update_state(loss_wfm)
    self.accuracy.update_state(labels, logits)
    for p, (mean, square) in enumerate(zip(self.lambda_means, self.lambda_squares)):
      mean.update_state(pair_weights[:, p])
      square.update_state(ops.square(pair_weights[:, p]))

  def _lambda_stds(self) -> dict:
    """Standard deviation of lambda over the epoch's samples, per pair."""
    return {f"train_lambda_std/{p.label}": ops.sqrt(ops.maximum(
        sq.result() - ops.square(mean.result()), 0.0))
            for p, mean, sq in zip(self.pairs, self.lambda_means,
                                   self.lambda_squares)}
