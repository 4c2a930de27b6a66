"""L2TL's policy: how much each source class (lambda) and the source loss (alpha) count.

The policy takes no input (Zhu et al., Section 5): it is a table of logits.
Each source class y has a categorical distribution over n actions, action k
meaning lambda(y) = k / (n - 1); alpha_s has one over n' actions, k' meaning
beta * k' / (n' - 1). It is trained by REINFORCE with a moving-average
baseline and an entropy bonus; the reward is a target validation metric.
"""
import keras
from keras import ops
import tensorflow as tf


@keras.saving.register_keras_serializable("l2t_tf")
class ClassWeightPolicy(keras.layers.Layer):
  """Categorical policies over lambda(y) for every source class and over alpha_s.

  Args:
    num_classes: c_S, the source classes.
    actions: n, the lambda actions {0, 1/(n-1), ..., 1}.
    alpha_actions: n', the alpha actions {0, beta/(n'-1), ..., beta}.
    alpha_max: beta.

  Zero logits: training starts from uniform distributions.
  """

  def __init__(self, num_classes: int, actions: int = 11, alpha_actions: int = 100,
               alpha_max: float = 0.5, **kwargs):
    super().__init__(**kwargs)
    if actions < 2 or alpha_actions < 2:
      raise ValueError(f"need at least 2 actions, got {actions} and {alpha_actions}")
    self.num_classes, self.actions = num_classes, actions
    self.alpha_actions, self.alpha_max = alpha_actions, alpha_max
    self.class_logits = self.add_weight((num_classes, actions), initializer="zeros",
                                        name="class_logits")
    self.alpha_logits = self.add_weight((alpha_actions,), initializer="zeros",
                                        name="alpha_logits")
    self.built = True  # it takes no input: its weights are all made above

  def get_config(self):
    return {**super().get_config(), "num_classes": self.num_classes,
            "actions": self.actions, "alpha_actions": self.alpha_actions,
            "alpha_max": self.alpha_max}

  def class_values(self) -> tf.Tensor:
    """[n] the lambda of each action: k / (n - 1)."""
    return ops.linspace(0.0, 1.0, self.actions)

  def alpha_values(self) -> tf.Tensor:
    """[n'] the alpha_s of each action: beta * k' / (n' - 1)."""
    return ops.linspace(0.0, self.alpha_max, self.alpha_actions)

  def sample(self, seed) -> tuple[tf.Tensor, tf.Tensor]:
    """(class actions [c_S], alpha action []) drawn with a stateless [2] seed.

    Stateless: every replica draws the same actions from the same seed, and
    a resumed run draws what the uninterrupted run drew. Gumbel-max
    (argmax of logits + Gumbel noise) samples the categorical exactly and,
    unlike tf.random.stateless_categorical, compiles with XLA on CPU. XLA
    draws other numbers from the same seed than TF's kernels do.
    """
    seeds = tf.random.experimental.stateless_split(seed, 2)
    return (_gumbel_max(self.class_logits, seeds[0]),
            _gumbel_max(self.alpha_logits, seeds[1]))

  def sample_antithetic(self, seed) -> tuple[tuple, tuple]:
    """Two draws of (class actions, alpha action) that mirror each other.

    Inverse-CDF sampling with one uniform u per distribution: the first draw
    uses u, the second 1 - u. Each is an exact sample of the policy; under a
    uniform policy the second is the first reflected (lambda -> 1 - lambda),
    so the reward difference of the two isolates each class's effect.
    """
    seeds = tf.random.experimental.stateless_split(seed, 2)
    class_u = tf.random.stateless_uniform((self.num_classes,), seeds[0])
    alpha_u = tf.random.stateless_uniform((), seeds[1])
    return ((_inverse_cdf(self.class_logits, class_u),
             _inverse_cdf(self.alpha_logits, alpha_u)),
            (_inverse_cdf(self.class_logits, 1.0 - class_u),
             _inverse_cdf(self.alpha_logits, 1.0 - alpha_u)))

  def weights_of(self, class_actions, alpha_action) -> tuple[tf.Tensor, tf.Tensor]:
    """(lambda per source class [c_S], alpha_s []) of the given actions."""
    return (ops.take(self.class_values(), class_actions),
            ops.take(self.alpha_values(), alpha_action))

  def log_prob(self, class_actions, alpha_action) -> tf.Tensor:
    """log pi(actions): the sum over classes of log p(action) plus alpha's."""
    class_log_p = ops.log_softmax(self.class_logits, axis=-1)
    alpha_log_p = ops.log_softmax(self.alpha_logits)
    chosen = ops.take_along_axis(class_log_p, class_actions[:, None], axis=1)
    return ops.sum(chosen) + ops.take(alpha_log_p, alpha_action)

  def entropy(self) -> tf.Tensor:
    """Sum of the entropies of every class distribution and alpha's."""
    def entropy_of(logits):
      log_p = ops.log_softmax(logits, axis=-1)
      return -ops.sum(ops.exp(log_p) * log_p)
    return entropy_of(self.class_logits) + entropy_of(self.alpha_logits)

  def expected_class_weights(self) -> tf.Tensor:
    """[c_S] E[lambda(y)] under the policy: the learned ranking of source classes."""
    return ops.sum(ops.softmax(self.class_logits, axis=-1) * self.class_values(),
                   axis=-1)

  def expected_alpha(self) -> tf.Tensor:
    return ops.sum(ops.softmax(self.alpha_logits) * self.alpha_values())


def _gumbel_max(logits, seed) -> tf.Tensor:
  logits = ops.convert_to_tensor(logits)
  uniform = tf.random.stateless_uniform(tf.shape(logits), seed, minval=1e-20,
                                        maxval=1.0, dtype=logits.dtype)
  return ops.cast(ops.argmax(logits - ops.log(-ops.log(uniform)), axis=-1), "int32")


def _inverse_cdf(logits, u) -> tf.Tensor:
  """The action whose CDF interval holds u, per row of `logits` (u: one per row)."""
  cdf = ops.cumsum(ops.softmax(logits, axis=-1), axis=-1)
  below = ops.cast(cdf < ops.expand_dims(u, -1), "int32")
  return ops.minimum(ops.sum(below, axis=-1), ops.shape(logits)[-1] - 1)


def fixed_class_weights(class_names, kept) -> list[float]:
  """lambda 1 for the classes named in `kept` (a name, or a prefix ending in
  ':'), 0 for the rest: the fixed rows of a known answer."""
  def is_kept(name: str) -> bool:
    return any(name == k or (k.endswith(":") and name.startswith(k)) for k in kept)
  return [1.0 if is_kept(str(n)) else 0.0 for n in class_names]


def reinforce_loss(log_prob, advantage, entropy, entropy_weight: float) -> tf.Tensor:
  """-(A * log pi(a)) - c * H(pi): its gradient is REINFORCE's with an entropy bonus.

  The advantage A = R - b is a constant here (no gradient flows into it).
  """
  return -ops.stop_gradient(advantage) * log_prob - entropy_weight * entropy


def moving_average(baseline, reward, decay: float):
  """b <- (1 - gamma) * b + gamma * R (Pham et al., 2018)."""
  return (1.0 - decay) * baseline + decay * reward


def select_top(weights, count: int) -> tf.Tensor:
  """Indices of the `count` largest weights (ties: earlier first).

  L2TL samples M_S * B_S source examples and trains on the B_S whose classes
  the policy weights most; the batch is already shuffled, so ties among equal
  weights fall on random examples.
  """
  return tf.math.top_k(weights, k=count, sorted=True).indices


def accuracy_reward(labels, logits) -> tf.Tensor:
  """Top-1 accuracy of a validation batch."""
  predicted = ops.argmax(logits, axis=-1)
  return ops.mean(ops.cast(ops.equal(predicted, ops.cast(labels, predicted.dtype)),
                           "float32"))


def mean_auc_reward(labels, logits) -> tf.Tensor:
  """Mean one-vs-rest ROC AUC over the classes present in the batch.

  AUC_c = P(s_pos > s_neg) + P(s_pos = s_neg) / 2 over all (positive,
  negative) pairs, with s the softmax score of class c (Mann-Whitney). A class
  with no positive or no negative in the batch is left out of the mean.
  """
  scores = ops.transpose(ops.softmax(logits, axis=-1))              # [C, B]
  positive = ops.transpose(ops.one_hot(labels, ops.shape(logits)[-1]))  # [C, B]
  negative = 1.0 - positive
  difference = scores[:, :, None] - scores[:, None, :]              # [C, B, B]
  wins = ops.cast(difference > 0, "float32") + 0.5 * ops.cast(difference == 0,
                                                              "float32")
  pairs = positive[:, :, None] * negative[:, None, :]
  count = ops.sum(pairs, axis=(1, 2))
  auc = ops.sum(wins * pairs, axis=(1, 2)) / ops.maximum(count, 1.0)
  present = ops.cast(count > 0, "float32")
  return ops.sum(auc * present) / ops.maximum(ops.sum(present), 1.0)


def neg_cross_entropy_reward(labels, logits) -> tf.Tensor:
  """Minus the mean cross-entropy of a validation batch: it moves with every
  step of the encoder, where accuracy on a few hundred images moves in steps
  of one image."""
  return -ops.mean(keras.losses.sparse_categorical_crossentropy(
      labels, logits, from_logits=True))


REWARDS = {"accuracy": accuracy_reward, "auc": mean_auc_reward,
           "neg_cross_entropy": neg_cross_entropy_reward}
