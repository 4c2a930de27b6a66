import numpy as np

from l2t_tf.transfer.meta_networks import MetaNetworks


def test_initial_weights_uniform_and_lambda_from_bias_one():
  meta = MetaNetworks([3, 2])
  pooled = [np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32)]
  weights, lambdas = meta(pooled)
  np.testing.assert_allclose(weights[0], np.full((4, 3), 1 / 3), rtol=1e-6)
  np.testing.assert_allclose(lambdas, np.ones((4, 2)))  # relu6(0 + bias 1)


def test_per_sample_outputs_and_ranges():
  meta = MetaNetworks([5])
  for v in meta.trainable_variables:
    v.assign(np.random.RandomState(0).normal(0, 3, v.shape))
  pooled = [np.random.RandomState(1).normal(size=(6, 5)).astype(np.float32)]
  weights, lambdas = meta(pooled)
  np.testing.assert_allclose(np.sum(weights[0], axis=1), np.ones(6), rtol=1e-5)
  assert np.all(lambdas >= 0) and np.all(lambdas <= 6)
  assert np.std(np.asarray(lambdas)) > 0  # differs per sample


def test_variants():
  fm = MetaNetworks([4, 4], learn_what=False, learn_where=False)
  assert not fm.trainable_variables
  l2t_w = MetaNetworks([4, 4], learn_what=True, learn_where=False)
  assert all("what" in v.name for v in l2t_w.trainable_variables)
  # Table 3's meta-weights as the official code builds them: lambda =
  # softplus(10 w) from w = 0 (log 2), the same for every sample; w per sample.
  constants = MetaNetworks([4], kind="constants")
  assert sorted(tuple(v.shape) for v in constants.trainable_variables) == [
      (1,), (4,), (4, 4)]
  pooled = [np.random.RandomState(0).normal(size=(3, 4)).astype(np.float32)]
  _, lambdas = constants(pooled)
  np.testing.assert_allclose(np.asarray(lambdas), np.full((3, 1), np.log(2.0)),
                             rtol=1e-6)
  constants.where_biases[0].assign([0.1])
  np.testing.assert_allclose(np.asarray(constants(pooled)[1]),
                             np.full((3, 1), np.log1p(np.e)), rtol=1e-6)


def test_neutral_where_init_starts_every_pair_at_exactly_one():
  """With real (non-zero) pooled features the reference init spreads lambda per
  pair and sample; the neutral init starts every pair at lambda = 1."""
  pooled = [np.abs(np.random.RandomState(p).normal(0, 2, size=(8, 16)))
            .astype(np.float32) for p in range(3)]
  _, reference = MetaNetworks([16] * 3, where_init="reference")(pooled)
  _, neutral = MetaNetworks([16] * 3, where_init="neutral")(pooled)
  np.testing.assert_array_equal(np.asarray(neutral), np.ones((8, 3)))
  assert np.ptp(np.asarray(reference)) > 0.1


def test_pair_of_variables_follows_trainable_variables():
  meta = MetaNetworks([4, 4, 2])
  assert meta.pair_of_variables() == [0] * 4 + [1] * 4 + [2] * 4
  assert MetaNetworks([3, 3], learn_what=False).pair_of_variables() == [0, 0, 1, 1]


def test_softplus_where_starts_at_one_and_never_dies():
  pooled = [np.abs(np.random.RandomState(0).normal(0, 2, size=(8, 16)))
            .astype(np.float32)]
  meta = MetaNetworks([16], where_init="neutral", where_activation="softplus")
  _, lambdas = meta(pooled)
  np.testing.assert_allclose(np.asarray(lambdas), np.ones((8, 1)), rtol=1e-6)
  # Driven far below zero, relu6 passes no gradient; softplus still does.
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  for activation in ("relu6", "softplus"):
    meta = MetaNetworks([16], learn_what=False, where_init="neutral",
                        where_activation=activation)
    meta.where_biases[0].assign([-5.0])
    with tf.GradientTape() as tape:
      _, lambdas = meta(pooled)
      total = tf.reduce_sum(lambdas)
    gradient = tape.gradient(total, meta.where_biases[0])
    assert (float(tf.reduce_sum(gradient)) > 0) == (activation == "softplus")


def test_shared_where_moves_strength_between_pairs_and_never_adds_it():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(0)
  pooled = [rng.normal(size=(6, c)).astype(np.float32) for c in (4, 3, 5)]
  meta = MetaNetworks([4, 3, 5], where_init="neutral", where_activation="share")
  _, lambdas = meta(pooled)
  np.testing.assert_allclose(np.asarray(lambdas), np.ones((6, 3)), rtol=1e-6)
  for kernel in meta.where_kernels:  # per-sample lambdas, as with relu6
    kernel.assign(rng.normal(size=kernel.shape))
  meta.where_biases[0].assign([1.0])
  with tf.GradientTape() as tape:
    _, lambdas = meta(pooled)
    total = tf.reduce_sum(lambdas)
  np.testing.assert_allclose(np.mean(lambdas, axis=1), np.ones(6), rtol=1e-5)
  assert np.std(np.asarray(lambdas)[:, 0]) > 0.01
  # By hand: lambda_p = P exp(z_p) / sum_q exp(z_q), z = pooled . kernel + bias.
  logits = np.stack([pooled[p] @ meta.where_kernels[p].numpy()[:, 0]
                     + meta.where_biases[p].numpy()[0] for p in range(3)], axis=1)
  expected = 3 * np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
  np.testing.assert_allclose(np.asarray(lambdas), expected, rtol=1e-5)
  # The total never changes, so no bias can raise it; raising one pair lowers the rest.
  grads = tape.gradient(total, meta.where_biases)
  np.testing.assert_allclose([float(g[0]) for g in grads], [0, 0, 0], atol=1e-5)
  with tf.GradientTape() as tape:
    _, lambdas = meta(pooled)
    first = tf.reduce_sum(lambdas[:, 0])
  grads = [float(g[0]) for g in tape.gradient(first, meta.where_biases)]
  assert grads[0] > 0 and grads[1] < 0 and grads[2] < 0


def test_standardised_inputs_read_the_channel_pattern_not_its_size():
  """A kernel step along every channel moves lambda by the channel sum on pooled
  inputs (all >= 0) and not at all on standardised ones."""
  rng = np.random.RandomState(0)
  pooled = [np.abs(rng.normal(1.5, 0.5, size=(6, 8))).astype(np.float32)]
  for inputs, moves in (("pooled", True), ("standardised", False)):
    meta = MetaNetworks([8], where_init="neutral", inputs=inputs)
    _, before = meta(pooled)
    meta.where_kernels[0].assign(np.full((8, 1), 1e-2, np.float32))
    _, after = meta(pooled)
    change = np.asarray(after - before)[:, 0]
    if moves:
      np.testing.assert_allclose(change, 1e-2 * pooled[0].sum(1), rtol=1e-4)
    else:
      np.testing.assert_allclose(change, np.zeros(6), atol=1e-5)
  for inputs, same in (("pooled", False), ("standardised", True)):
    meta = MetaNetworks([8], inputs=inputs)
    meta.what_kernels[0].assign(rng.normal(size=(8, 8)).astype(np.float32))
    (small,), _ = meta(pooled)
    (large,), _ = meta([pooled[0] * 3.0])  # the same pattern, thrice the size
    assert np.allclose(small, large, rtol=1e-3, atol=1e-6) == same
