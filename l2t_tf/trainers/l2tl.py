"""JointTransfer: L2TL, joint source/target training with an RL-weighted source loss.

One `train_step` per iteration (Zhu et al., "Learning to Transfer Learn", Sec. 4):
  (1) with the policy fixed, sample lambda(y) for every source class and
      alpha_s; keep the B_S of the M_S * B_S source examples whose classes
      weigh most; one SGD step on the encoder g and both heads on
          alpha_s * mean_j lambda(y_j) L_S(x_j) + mean_k L_T(x'_k)
      (Eq. 1 with each sum divided by its batch size);
  (2) reward R = the target metric on a validation batch, the encoder in
      evaluation mode; advantage A = R - b; one Adam step on the policy by
      REINFORCE with an entropy bonus; then b <- (1 - gamma) b + gamma R.
`estimator` replaces step (2)'s REINFORCE (the default, the paper's):
  'antithetic': two mirrored draws lambda, lambda' (policy.sample_antithetic)
      from the same encoder state and batches; each is scored by R after one
      look-ahead SGD step of size `lookahead_lr` (undone); the advantages
      are +-(R - R') / 2, and the real step takes the first draw's gradient.
  'alignment': no reward and no sampling in the policy's update: per source
      class k, a_k = <grad CE_val, grad CE_S,k> over the whole stream batch
      (one forward-mode pass), the first-order change of the validation loss
      when the encoder descends class k's loss; the policy ascends
      sum_k a_k E[lambda_k] / rms(a), alpha_s likewise on sum_k a_k lambda_k.
The first `pretrain_steps` iterations train on the source alone (Eq. 3's
schedule: lambda = 1, alpha_s = 1, no target loss, no policy step, no target
image through the encoder), with a train step of their own.

BatchNorm (`batch_norm`): 'separate' (default; the paper's footnote 2 and the
official code, which runs each stream on its own) passes the target and the
source batch through the encoder one after the other, each normalised by its
own batch statistics, and keeps the moving statistics (what evaluation, the
reward and the export use) the target's alone. 'shared' passes one
concatenated batch, so both are a mix of the two domains: the control row.
"""
import keras
from keras import ops
import tensorflow as tf

from l2t_tf import hooks
from l2t_tf.trainers import common
from l2t_tf.transfer import policy as policy_lib

# learned: the paper. random: lambda drawn from the untrained (uniform) policy.
# uniform: lambda = 1 for every class. Both still learn alpha_s, as in the
# paper's ablation (Fig. 4). finetune: alpha_s = 0 after pre-training.
# fixed: lambda = `fixed_weights` (1 for the classes kept, 0 for the rest).
CLASS_WEIGHTS = ("learned", "random", "uniform", "fixed", "finetune")
BATCH_NORMS = ("separate", "shared")
ESTIMATORS = ("reinforce", "antithetic", "alignment")


class JointTransfer(hooks.Hooks, keras.Model):
  """Trains a shared encoder with a target head and a source head (L2TL).

  Args:
    target: x -> target logits (encoder g + head h_T): what gets exported.
    joint: x -> [target logits, source logits], sharing g with `target`.
    class_policy: the policy over lambda(y) and alpha_s.
    mode: one of CLASS_WEIGHTS.
    source_batch_size: B_S, the source examples trained on per step (the
      stream delivers M_S * B_S).
    reward: 'accuracy' or 'auc' (see policy.REWARDS).
    baseline_decay: gamma of the moving-average baseline.
    entropy_weight: weight of the policy's entropy bonus.
    pretrain_steps: N_S, source-only steps before the joint training.
    seed: of the action sampling (stateless, per step).
    batch_norm: one of BATCH_NORMS (see the module docstring).
    estimator: one of ESTIMATORS (see the module docstring).
    fixed_weights: lambda per source class for mode 'fixed'.
    lookahead_lr: the antithetic estimator's look-ahead step size.
    placebo: flip the sign of the policy's signal (advantage or alignment):
      the same updates with their meaning reversed, the control that tells
      learning from drift.
  """

  def __init__(self, target: keras.Model, joint: keras.Model,
               class_policy: policy_lib.ClassWeightPolicy, mode: str = "learned",
               source_batch_size: int = 32, reward: str = "accuracy",
               baseline_decay: float = 0.05, entropy_weight: float = 0.0,
               pretrain_steps: int = 0, seed: int = 0, batch_norm: str = "separate",
               estimator: str = "reinforce", fixed_weights=None,
               lookahead_lr: float = 0.01, placebo: bool = False, **kwargs):
    super().__init__(**kwargs)
    if mode not in CLASS_WEIGHTS:
      raise ValueError(f"mode must be one of {CLASS_WEIGHTS}, got {mode!r}")
    if batch_norm not in BATCH_NORMS:
      raise ValueError(f"batch_norm must be one of {BATCH_NORMS}, got {batch_norm!r}")
    if estimator not in ESTIMATORS:
      raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if (mode == "fixed") != (fixed_weights is not None):
      raise ValueError("fixed_weights go with mode 'fixed', and only with it")
    self.batch_norm, self.estimator, self.lookahead_lr = batch_norm, estimator, lookahead_lr
    self.sign = -1.0 if placebo else 1.0
    self.fixed_weights = (None if fixed_weights is None
                          else tf.constant(fixed_weights, "float32"))
    self.target, self.joint, self.policy = target, joint, class_policy
    self.mode, self.source_batch_size = mode, source_batch_size
    self.reward_fn = policy_lib.REWARDS[reward]
    self.baseline_decay, self.entropy_weight = baseline_decay, entropy_weight
    self.pretrain_steps, self.seed = pretrain_steps, seed
    self.pretraining = pretrain_steps > 0  # kept current by `_Phases`
    # Replicas compute the same baseline, so the first one's value is kept.
    self.baseline = self.add_weight((), initializer="zeros", trainable=False,
                                    name="baseline",
                                    aggregation="only_first_replica")
    # Sums over the policy steps since the last reset (callbacks.PolicyTrace
    # reads and resets them each epoch): the reward's noise, the advantage,
    # and per source class the correlation of its applied lambda with the
    # advantage, which is the signal REINFORCE follows (antithetic: of
    # (lambda - lambda') / 2 with (R - R') / 2), or the alignment estimator's
    # scaled a_k ("class_signal").
    classes = class_policy.num_classes
    self.signal = {name: self.add_weight(shape, initializer="zeros", trainable=False,
                                         name=f"signal_{name}",
                                         aggregation="only_first_replica")
                   for name, shape in (("count", ()), ("reward", ()),
                                       ("reward_sq", ()), ("advantage", ()),
                                       ("advantage_sq", ()), ("lambda", (classes,)),
                                       ("lambda_sq", (classes,)),
                                       ("lambda_advantage", (classes,)),
                                       ("class_signal", (classes,)),
                                       ("class_signal_sq", (classes,)))}
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.target_tracker = keras.metrics.Mean(name="loss_target")
    self.source_tracker = keras.metrics.Mean(name="loss_source")
    self.reward_tracker = keras.metrics.Mean(name="reward")
    self.advantage_tracker = keras.metrics.Mean(name="advantage")
    self.alpha_tracker = keras.metrics.Mean(name="alpha")
    self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    self.grad_norm = keras.metrics.Mean(name="grad_norm")
    # Every sub-model is built: without this Keras would build the model by
    # calling it on the first part of a training element, (images, labels).
    self.built = True

  def call(self, images, training=False):
    return self.target(images, training=training)

  def fit(self, *args, callbacks=None, **kwargs):
    """Keras's fit, switching from the pre-training to the joint step on time."""
    return super().fit(*args, callbacks=[_Phases(), *(callbacks or [])], **kwargs)

  def compile(self, optimizer, policy_optimizer, jit_compile: bool = False):
    """`optimizer` trains g, h_S, h_T; `policy_optimizer` (Adam) trains the policy.

    Both are built here, inside the strategy scope (see LearnedTransfer.compile).
    """
    super().compile(optimizer=optimizer, jit_compile=jit_compile)
    self.policy_optimizer = policy_optimizer
    optimizer.build(self.joint.trainable_variables)
    policy_optimizer.build(self.policy.trainable_variables)

  @property
  def learns_policy(self) -> bool:
    """Whether any of the policy is trained (all modes but fine-tuning)."""
    return self.mode != "finetune"

  @property
  def metrics(self):
    return [self.loss_tracker, self.target_tracker, self.source_tracker,
            self.reward_tracker, self.advantage_tracker, self.alpha_tracker,
            self.accuracy, self.grad_norm]

  def train_step(self, data):
    (target_images, target_labels), (source_images, source_labels), validation = data
    step = self.optimizer.iterations  # before this step's update
    seed = tf.stack([tf.constant(self.seed, tf.int64), ops.cast(step, "int64")])
    uses_source = self.pretraining or self.mode != "finetune"
    uses_target = not self.pretraining
    target = (target_images, target_labels) if uses_target else None
    source = (source_images, source_labels) if uses_source else None
    learns = self.learns_policy and not self.pretraining

    if learns and self.estimator == "antithetic":
      actions, mirrored = self.policy.sample_antithetic(seed)
      grads, parts, class_weights = self.antithetic_lookahead(
          target, source, validation, actions, mirrored)
    else:
      actions = self.policy.sample(seed)
      class_weights, alpha = self.weights_of(actions)
      grads, parts = self.gradients(target, source, class_weights, alpha)
    # (1) The gradient step on g, h_S, h_T with the policy fixed.
    self.optimizer.apply(grads, self.joint.trainable_variables)
    self.grad_norm.update_state(tf.linalg.global_norm(grads))

    # (2) The policy step, from the reward of the updated encoder.
    if learns and self.estimator == "alignment":
      self.alignment_step(validation, source_images, source_labels)
    elif learns and self.estimator == "reinforce":
      self.policy_step(validation, actions, class_weights)

    loss, loss_target, loss_source, alpha, target_logits = parts
    self.loss_tracker.update_state(loss)
    self.target_tracker.update_state(loss_target)
    self.source_tracker.update_state(loss_source)
    self.alpha_tracker.update_state(alpha)
    if uses_target:
      self.accuracy.update_state(target_labels, target_logits)
    return {m.name: m.result() for m in self.metrics}

  def gradients(self, target, source, class_weights, alpha):
    """(grads of Eq. 1's loss over g, h_S, h_T, (loss, L_T, L_S, alpha, target
    logits)) for one draw of lambda and alpha_s; `target` or `source` is None
    where the phase leaves it out (fine-tuning's target phase passes no
    source image through the encoder, pre-training no target image)."""
    if source is not None:
      source_images, source_labels, example_weights = self.select_source(
          *source, class_weights)
    theta = self.joint.trainable_variables
    with tf.GradientTape() as tape:
      target_logits, source_logits = self.encode(
          None if target is None else target[0],
          None if source is None else source_images)
      loss_target = (common.cross_entropy(target[1], target_logits)
                     if target is not None else ops.zeros(()))
      loss_source = (_weighted_cross_entropy(source_labels, source_logits,
                                             example_weights)
                     if source is not None else ops.zeros(()))
      loss = alpha * loss_source + loss_target
      scaled = loss / self._replicas()
    grads = common.dense(tape.gradient(scaled, theta), theta)
    return grads, (loss, loss_target, loss_source, alpha, target_logits)

  def test_step(self, data):
    return common.target_test_step(self, data)

  def extra_state(self) -> list:
    return list(self.policy_optimizer.variables)

  def trains_target(self) -> bool:
    return not self.pretraining

  # -- The pieces ------------------------------------------------------------
  def encode(self, target_images, source_images):
    """(target logits, source logits) of each batch (None where not given),
    through the shared encoder in training mode, per `batch_norm`."""
    if target_images is None or source_images is None:
      images = source_images if target_images is None else target_images
      target_logits, source_logits = self.joint(images, training=True)
      return ((None, source_logits) if target_images is None
              else (target_logits, None))
    if self.batch_norm == "shared":  # one pass of both: mixed statistics
      count = ops.shape(target_images)[0]
      target_logits, source_logits = self.joint(
          ops.concatenate([target_images, source_images], axis=0), training=True)
      return target_logits[:count], source_logits[count:]
    target_logits, _ = self.joint(target_images, training=True)
    # The source pass normalises with the source batch's statistics; its
    # updates of the moving statistics are undone, so they stay the target's.
    statistics = self.joint.non_trainable_variables
    kept = [common.snapshot(v) for v in statistics]
    with tf.control_dependencies(kept):
      _, source_logits = self.joint(source_images, training=True)
    with tf.control_dependencies([source_logits]):
      _assign(statistics, kept)
    return target_logits, source_logits

  def weights_of(self, actions) -> tuple[tf.Tensor, tf.Tensor]:
    """(lambda per source class, alpha_s) for this step's actions and mode."""
    class_weights, alpha = self.policy.weights_of(*actions)
    if self.pretraining or self.mode == "uniform":
      class_weights = ops.ones_like(class_weights)
    elif self.mode == "fixed":
      class_weights = self.fixed_weights
    if self.pretraining:
      alpha = ops.ones_like(alpha)
    elif self.mode == "finetune":
      alpha = ops.zeros_like(alpha)
    return class_weights, alpha

  def select_source(self, images, labels, class_weights):
    """The B_S of the M_S * B_S source examples whose classes weigh most, with
    their weights. Under a strategy each replica keeps its share of B_S from
    its own share of the examples."""
    weights = ops.take(class_weights, labels)
    top = policy_lib.select_top(weights, self.source_batch_size // self._replicas())
    return (ops.take(images, top, axis=0), ops.take(labels, top, axis=0),
            ops.take(weights, top, axis=0))

  def policy_step(self, validation, actions, class_weights=None) -> None:
    """REINFORCE on the policy with reward R, then the baseline update.

    `class_weights`: the lambda applied this step, for the signal sums."""
    reward = self._reward(validation)
    # The first reward starts the baseline (advantage 0) instead of b = 0,
    # which would reward whatever the first actions were.
    first = ops.equal(self.policy_optimizer.iterations, 0)
    baseline = ops.where(first, reward, self.baseline)
    variables = self.policy.trainable_variables
    with tf.GradientTape() as tape:
      loss = policy_lib.reinforce_loss(self.policy.log_prob(*actions),
                                       self.sign * (reward - baseline),
                                       self.policy.entropy(),
                                       self.entropy_weight) / self._replicas()
    self._apply_policy(tape.gradient(loss, variables), variables)
    self.baseline.assign(policy_lib.moving_average(baseline, reward,
                                                   self.baseline_decay))
    if class_weights is None:
      class_weights = self.policy.weights_of(*actions)[0]
    self._record(reward, reward - baseline, class_weights)

  def antithetic_lookahead(self, target, source, validation, actions, mirrored):
    """Scores both mirrored draws after a look-ahead step and takes the
    antithetic policy step; returns the first draw's (grads, parts, lambda).

    Both draws start from the same weights, BatchNorm statistics and batches;
    each look-ahead is undone, and the statistics end as the first draw's
    forward pass left them (what the real step then applies)."""
    theta = self.joint.trainable_variables
    statistics = self.joint.non_trainable_variables
    start_theta = [common.snapshot(v) for v in theta]
    start_statistics = [common.snapshot(v) for v in statistics]
    drawn = []
    for draw in (actions, mirrored):
      _assign(statistics, start_statistics)
      class_weights, alpha = self.weights_of(draw)
      grads, parts = self.gradients(target, source, class_weights, alpha)
      after = [common.snapshot(v) for v in statistics]
      _assign(theta, [t - self.lookahead_lr * g for t, g in zip(start_theta, grads)])
      reward = self._reward(validation)
      _assign(theta, start_theta)
      drawn.append((grads, parts, class_weights, after, reward))
    (grads, parts, class_weights, after, reward), mirror = drawn[0], drawn[1]
    _assign(statistics, after)
    advantage = (reward - mirror[4]) / 2.0
    variables = self.policy.trainable_variables
    with tf.GradientTape() as tape:
      signed = self.sign * advantage
      loss = (policy_lib.reinforce_loss(self.policy.log_prob(*actions), signed,
                                        self.policy.entropy(), self.entropy_weight)
              + policy_lib.reinforce_loss(self.policy.log_prob(*mirrored), -signed,
                                          0.0, 0.0)) / self._replicas()
    self._apply_policy(tape.gradient(loss, variables), variables)
    self._record((reward + mirror[4]) / 2.0, advantage,
                 (class_weights - mirror[2]) / 2.0)
    return grads, parts, class_weights

  def alignment_step(self, validation, source_images, source_labels) -> None:
    """The alignment estimator's policy step (see the module docstring).

    a_k uses every example of the stream's batch (M_S * B_S), whatever this
    step's lambda kept, so it does not depend on the policy."""
    images, labels = validation
    theta = self.joint.trainable_variables
    statistics = self.joint.non_trainable_variables
    params = [common.snapshot(v) for v in theta]
    kept = [common.snapshot(v) for v in statistics]
    with tf.GradientTape() as tape:
      tape.watch(params)
      (val_logits, _), _ = self.joint.stateless_call(params, kept, images,
                                                     training=False)
      val_loss = common.cross_entropy(labels, val_logits)
    direction = _replica_mean(common.dense(tape.gradient(val_loss, params), params))
    with tf.autodiff.ForwardAccumulator(params, direction) as accumulator:
      (_, source_logits), _ = self.joint.stateless_call(params, kept, source_images,
                                                        training=True)
      per_example = keras.losses.sparse_categorical_crossentropy(
          source_labels, source_logits, from_logits=True)
    slopes = tf.stop_gradient(accumulator.jvp(
        per_example, unconnected_gradients=tf.UnconnectedGradients.ZERO))
    classes = self.policy.num_classes
    alignment = tf.math.unsorted_segment_sum(
        slopes, ops.cast(source_labels, "int32"), classes) / ops.cast(
            ops.shape(slopes)[0], slopes.dtype)
    alignment = _replica_mean(alignment)
    scaled = alignment / (ops.sqrt(ops.mean(alignment ** 2)) + 1e-12)
    scaled = tf.stop_gradient(scaled)
    signed = self.sign * scaled
    variables = self.policy.trainable_variables
    with tf.GradientTape() as tape:
      expected = self.policy.expected_class_weights()
      objective = (ops.sum(signed * expected)
                   + ops.mean(signed * expected) * self.policy.expected_alpha()
                   / self.policy.alpha_max
                   + self.entropy_weight * self.policy.entropy())
      loss = -objective / self._replicas()
    self._apply_policy(tape.gradient(loss, variables), variables)
    self.signal["class_signal"].assign_add(scaled)
    self.signal["class_signal_sq"].assign_add(scaled ** 2)
    self.signal["count"].assign_add(1.0)

  def _reward(self, validation) -> tf.Tensor:
    """R of the target on the validation batch, the encoder in evaluation
    mode, the same on every replica."""
    images, labels = validation
    # Every replica must take the same policy step: average their rewards.
    return _replica_mean(ops.cast(
        self.reward_fn(labels, self.target(images, training=False)), "float32"))

  def _apply_policy(self, grads, variables) -> None:
    """The policy's update; the class policy stays put unless it is learned."""
    grads = common.dense(grads, variables)
    if self.mode != "learned":  # random / uniform / fixed: lambda's policy stays
      grads = [ops.zeros_like(g) if v is self.policy.class_logits else g
               for g, v in zip(grads, variables)]
    self.policy_optimizer.apply(grads, variables)

  def _record(self, reward, advantage, class_weights) -> None:
    """Adds one policy step to the signal sums and the logged metrics."""
    self.reward_tracker.update_state(reward)
    self.advantage_tracker.update_state(advantage)
    class_weights = ops.cast(class_weights, "float32")
    for name, value in (("count", 1.0), ("reward", reward), ("reward_sq", reward ** 2),
                        ("advantage", advantage), ("advantage_sq", advantage ** 2),
                        ("lambda", class_weights), ("lambda_sq", class_weights ** 2),
                        ("lambda_advantage", class_weights * advantage)):
      self.signal[name].assign_add(ops.broadcast_to(ops.cast(value, "float32"),
                                                    self.signal[name].shape))

  def _replicas(self) -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync


def _replica_mean(value):
  """`value` (a tensor or a list of them) averaged over the replicas of a
  strategy, so that each takes the same policy step; as it is on one device."""
  context = tf.distribute.get_replica_context()
  if context is not None and context.num_replicas_in_sync > 1:
    return context.all_reduce(tf.distribute.ReduceOp.MEAN, value)
  return value


def _assign(variables, values) -> None:
  for variable, value in zip(variables, values):
    variable.assign(value)


def _weighted_cross_entropy(labels, logits, weights) -> tf.Tensor:
  """mean_j w_j CE(logits_j, y_j): the source term of Eq. 1 (before alpha_s)."""
  return ops.mean(weights * keras.losses.sparse_categorical_crossentropy(
      labels, logits, from_logits=True))


class _Phases(keras.callbacks.Callback):
  """Retraces the train step when the pre-training steps are over.

  The phase is a Python flag read while tracing, not a `tf.cond`: under
  MirroredStrategy a cond around the policy step (an all-reduce and an
  optimizer update) fails with a `merge_call` error.
  """

  def on_train_batch_begin(self, batch, logs=None):
    model = self.model
    if not model.pretraining:  # iterations only grow: it cannot come back
      return
    pretraining = int(model.optimizer.iterations.numpy()) < model.pretrain_steps
    if pretraining != model.pretraining:
      model.pretraining = pretraining
      model.make_train_function(force=True)
