"""L2TL's policy: REINFORCE gradient, baseline, top-B_S selection, rewards."""
import numpy as np
import pytest
import tensorflow as tf
from sklearn import metrics

from l2t_tf.transfer import policy as policy_lib


def _softmax(x):
  e = np.exp(x - x.max(axis=-1, keepdims=True))
  return e / e.sum(axis=-1, keepdims=True)


def test_reinforce_gradient_equals_its_analytic_value():
  rng = np.random.default_rng(0)
  policy = policy_lib.ClassWeightPolicy(3, actions=4, alpha_actions=5)
  class_logits = rng.normal(size=(3, 4)).astype(np.float32)
  alpha_logits = rng.normal(size=(5,)).astype(np.float32)
  policy.class_logits.assign(class_logits)
  policy.alpha_logits.assign(alpha_logits)
  class_actions, alpha_action = np.array([2, 0, 3]), 1
  advantage, entropy_weight = 0.7, 0.1
  with tf.GradientTape() as tape:
    loss = policy_lib.reinforce_loss(
        policy.log_prob(tf.constant(class_actions), tf.constant(alpha_action)),
        tf.constant(advantage), policy.entropy(), entropy_weight)
  got_class, got_alpha = tape.gradient(loss, [policy.class_logits,
                                              policy.alpha_logits])

  # d log softmax(z)_a / dz_k = 1[k = a] - p_k;  dH / dz_k = -p_k (log p_k + H).
  def expected(logits, chosen):
    p = _softmax(logits.astype(np.float64))
    entropy = -(p * np.log(p)).sum(axis=-1, keepdims=True)
    one_hot = np.eye(logits.shape[-1])[chosen]
    return -advantage * (one_hot - p) + entropy_weight * p * (np.log(p) + entropy)

  np.testing.assert_allclose(got_class, expected(class_logits, class_actions),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got_alpha, expected(alpha_logits, alpha_action),
                             rtol=1e-5, atol=1e-6)


def test_actions_map_to_the_papers_values():
  policy = policy_lib.ClassWeightPolicy(2, actions=11, alpha_actions=3,
                                        alpha_max=0.5)
  weights, alpha = policy.weights_of(tf.constant([0, 7]), tf.constant(1))
  np.testing.assert_allclose(weights, [0.0, 0.7], atol=1e-6)
  assert float(alpha) == pytest.approx(0.25)
  assert float(policy.expected_class_weights()[0]) == pytest.approx(0.5)  # uniform


def test_sampling_is_a_function_of_the_seed():
  policy = policy_lib.ClassWeightPolicy(50, actions=11)
  first = policy.sample(tf.constant([3, 9], tf.int64))
  again = policy.sample(tf.constant([3, 9], tf.int64))
  other = policy.sample(tf.constant([3, 10], tf.int64))
  np.testing.assert_array_equal(first[0], again[0])
  assert not np.array_equal(first[0], other[0])


@pytest.mark.slow
def test_samples_follow_the_policy_distribution():
  policy = policy_lib.ClassWeightPolicy(1, actions=3, alpha_actions=2)
  policy.class_logits.assign(np.log([[0.2, 0.5, 0.3]]).astype(np.float32))
  draws = np.array([int(policy.sample(tf.constant([0, i], tf.int64))[0][0])
                    for i in range(3000)])
  # Binomial standard deviation of each share: sqrt(0.25 / 3000) < 0.01.
  np.testing.assert_allclose(np.bincount(draws, minlength=3) / 3000, [0.2, 0.5, 0.3],
                             atol=0.03)


def test_moving_average_baseline():
  assert float(policy_lib.moving_average(0.5, 0.9, 0.05)) == pytest.approx(
      0.95 * 0.5 + 0.05 * 0.9)


def test_select_top_picks_the_highest_weights():
  weights = tf.constant([0.1, 0.9, 0.3, 0.9, 0.0, 0.5])
  chosen = policy_lib.select_top(weights, 3).numpy()
  assert sorted(chosen.tolist()) == [1, 3, 5]


def test_accuracy_reward():
  logits = tf.constant([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 2.0]])
  assert float(policy_lib.accuracy_reward(tf.constant([0, 1, 1, 1]), logits)) == 0.75


def test_mean_auc_reward_matches_scikit_learn():
  rng = np.random.default_rng(1)
  labels = np.array([0, 1, 2, 2, 1, 0, 2, 1, 1, 0, 2, 0])
  logits = rng.normal(size=(12, 4)).astype(np.float32)
  logits[3, :] = logits[4, :]  # ties count one half
  probabilities = _softmax(logits.astype(np.float64))
  # Class 3 never occurs: it is left out of the mean.
  expected = np.mean([metrics.roc_auc_score(labels == c, probabilities[:, c])
                      for c in range(3)])
  got = float(policy_lib.mean_auc_reward(tf.constant(labels), tf.constant(logits)))
  assert got == pytest.approx(expected, abs=1e-6)


def test_antithetic_draws_follow_the_policy_and_mirror_each_other():
  policy = policy_lib.ClassWeightPolicy(4000, actions=3, alpha_actions=2)
  first, second = policy.sample_antithetic(tf.constant([0, 1], tf.int64))
  # Under the uniform (untrained) policy the second draw is the first reflected.
  np.testing.assert_array_equal(second[0], 2 - first[0].numpy())
  policy.class_logits.assign(np.tile(np.log([[0.2, 0.5, 0.3]]), (4000, 1)))
  for draw in policy.sample_antithetic(tf.constant([0, 2], tf.int64)):
    # Each is a sample of the policy (binomial spread of a share < 0.008).
    np.testing.assert_allclose(np.bincount(draw[0], minlength=3) / 4000,
                               [0.2, 0.5, 0.3], atol=0.03)


def test_fixed_class_weights_keep_names_and_prefixes():
  names = ["digit:0", "digit:1", "scrambled:0", "digits"]
  assert policy_lib.fixed_class_weights(names, ("digit:",)) == [1, 1, 0, 0]
  assert policy_lib.fixed_class_weights(names, ("scrambled:0", "digits")) == [0, 0, 1, 1]
  assert policy_lib.fixed_class_weights(names, ("digit",)) == [0, 0, 0, 0]


def test_neg_cross_entropy_reward():
  logits = tf.constant([[2.0, 0.0], [0.0, 1.0]])
  expected = -np.mean([np.log1p(np.exp(-2.0)), np.log1p(np.exp(-1.0))])
  got = float(policy_lib.neg_cross_entropy_reward(tf.constant([0, 1]), logits))
  assert got == pytest.approx(expected, rel=1e-6)
