"""LearnedTransfer: the meta-gradient against finite differences, and step invariants."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tiny
from l2t_tf import api, optim
from l2t_tf.models import backbones, naming
from l2t_tf.trainers import common
from l2t_tf.trainers.l2t_ww import LearnedTransfer
from l2t_tf.transfer import losses
from l2t_tf.transfer.meta_networks import MetaNetworks

LEARNING_RATE = 0.5


def _model(inner_steps=2, scheme="three_stage", learn=(True, True),
           batch_norm=True, random_phi=True, seed=1, pooling="max",
           ) -> LearnedTransfer:
  with naming.fresh_names():  # as build_model does: checkpoints restore by name
    return _build(inner_steps, scheme, learn, batch_norm, random_phi, seed, pooling)


def _build(inner_steps, scheme, learn, batch_norm, random_phi, seed, pooling):
  keras.utils.set_random_seed(seed)
  target, source = tiny.target(batch_norm, pooling=pooling), tiny.source()
  pairs = tiny.all_to_all(target, source)
  meta = MetaNetworks([p.source.shape[-1] for p in pairs], *learn)
  if random_phi:  # away from the symmetric start, so every path matters
    for v in meta.trainable_variables:
      v.assign(np.random.RandomState(0).normal(0, 0.3, v.shape))
  model = LearnedTransfer(target, api.with_regressors(target, pairs),
                          [backbones.feature_extractor(source)], pairs, meta,
                          inner_steps=inner_steps, scheme=scheme)
  optimizer = optim.SGDL2(learning_rate=LEARNING_RATE, momentum=0.9, l2=1e-3)
  model.compile(optimizer, optim.AdamL2(learning_rate=1e-2))
  for v in optimizer.momentums:  # a non-zero momentum state, as mid-training
    v.assign(np.random.RandomState(1).normal(0, 0.05, v.shape))
  return model


def _central_differences(model, args, eps=1e-5):
  numeric = []
  for v in model.meta_networks.trainable_variables:
    base = v.numpy()
    for i in range(base.size):
      values = []
      for sign in (1, -1):
        bumped = base.copy().ravel()
        bumped[i] += sign * eps
        v.assign(bumped.reshape(base.shape))
        values.append(float(model.meta_objective(*args)))
      v.assign(base)
      numeric.append((values[0] - values[1]) / (2 * eps))
  return np.array(numeric)


@pytest.mark.parametrize("inner_steps, scheme", [
    (1, "three_stage"),
    pytest.param(2, "three_stage", marks=pytest.mark.slow),
    pytest.param(2, "two_stage", marks=pytest.mark.slow)])
def test_meta_gradient_matches_finite_differences(float64, inner_steps, scheme):
  model = _model(inner_steps, scheme)
  images, labels = tiny.batch()
  source_maps, pooled = model.source_features(images)
  args = (images, labels, source_maps, pooled, LEARNING_RATE)
  analytic = np.concatenate([np.ravel(g) for g in model.meta_gradient(*args)])
  numeric = _central_differences(model, args)
  assert np.linalg.norm(numeric) > 1e-4  # the test measures something
  error = np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric)
  assert error < 1e-3, error


@pytest.mark.slow
def test_stock_batchnorm_would_fail_this_check(float64, monkeypatch):
  """Guards the test above: Keras's own moments give a visibly wrong meta-gradient."""
  from l2t_tf.models.layers import BatchNorm  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(BatchNorm, "_moments",
                      keras.layers.BatchNormalization._moments)  # pylint: disable=protected-access
  model = _model(2)
  images, labels = tiny.batch()
  source_maps, pooled = model.source_features(images)
  args = (images, labels, source_maps, pooled, LEARNING_RATE)
  analytic = np.concatenate([np.ravel(g) for g in model.meta_gradient(*args)])
  numeric = _central_differences(model, args)
  assert np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric) > 1e-2


def _state(model):
  return {
      "theta": [v.numpy() for v in model.with_regressors.trainable_variables],
      "stats": [v.numpy() for v in model.with_regressors.non_trainable_variables],
      "slots": [v.numpy() for v in model.optimizer.variables],
      "phi": [v.numpy() for v in model.meta_networks.trainable_variables],
  }


def _restore(model, state):
  for key, variables in (("theta", model.with_regressors.trainable_variables),
                         ("stats", model.with_regressors.non_trainable_variables),
                         ("slots", model.optimizer.variables),
                         ("phi", model.meta_networks.trainable_variables)):
    for v, value in zip(variables, state[key]):
      v.assign(value)


def _assert_same(a, b, atol=1e-6):
  for x, y in zip(a, b):
    np.testing.assert_allclose(x, y, atol=atol)


def test_step_changes_theta_and_statistics_only_through_step_one():
  model = _model()
  images, labels = tiny.batch()
  start = _state(model)
  model.train_step((images, labels))
  full = _state(model)
  # The same batch with the meta step switched off: step (1) alone.
  _restore(model, start)
  model.learns_meta = False
  model.train_step((images, labels))
  step_one = _state(model)
  _assert_same(full["theta"], step_one["theta"])
  _assert_same(full["stats"], step_one["stats"])
  _assert_same(full["slots"], step_one["slots"])
  assert any(not np.allclose(a, b) for a, b in zip(start["stats"], full["stats"]))
  assert any(not np.allclose(a, b) for a, b in zip(start["theta"], full["theta"]))
  # phi moved in the full step only.
  assert any(not np.allclose(a, b) for a, b in zip(start["phi"], full["phi"]))
  _assert_same(start["phi"], step_one["phi"])


def test_frozen_phi_stays_at_its_start_while_theta_trains():
  """The ablation of issue #13: the same meta-networks, never updated."""
  model = _model()
  model.learns_meta = False  # what freeze_meta=True sets
  images, labels = tiny.batch()
  start = _state(model)
  logs = model.train_step((images, labels))
  _assert_same(start["phi"], _state(model)["phi"], atol=0)
  assert any(not np.allclose(a, b) for a, b in zip(start["theta"],
                                                   _state(model)["theta"]))
  assert float(logs["grad_norm"]) > 0 and float(logs["meta_grad_norm"]) == 0


def test_step_logs_gradient_norms():
  model = _model()
  images, labels = tiny.batch()
  source_maps, pooled = model.source_features(images)
  meta_grads = model.meta_gradient(images, labels, source_maps, pooled, LEARNING_RATE)
  per_pair = np.asarray(model._pair_norms(meta_grads))  # pylint: disable=protected-access
  total = np.sqrt(sum(np.sum(np.square(g)) for g in meta_grads))
  assert per_pair.shape == (len(model.pairs),) and np.all(per_pair > 0)
  np.testing.assert_allclose(np.sqrt(np.sum(per_pair ** 2)), total, rtol=1e-5)
  # In a step the meta-gradient is taken after step (1): compare the logs with
  # each other, total against pairs.
  logs = model.train_step((images, labels))
  logged = np.array([float(logs[f"meta_grad_norm/{p.label}"]) for p in model.pairs])
  assert np.all(logged > 0)
  np.testing.assert_allclose(float(logs["meta_grad_norm"]),
                             np.sqrt(np.sum(logged ** 2)), rtol=1e-5)


def test_fm_has_no_meta_parameters_and_l2t_w_learns_only_what():
  fm = _model(learn=(False, False), random_phi=False)
  assert not fm.meta_networks.trainable_variables and not fm.learns_meta
  images, labels = tiny.batch()
  before = [v.numpy() for v in fm.with_regressors.trainable_variables]
  fm.train_step((images, labels))
  assert any(not np.allclose(a, v.numpy())
             for a, v in zip(before, fm.with_regressors.trainable_variables))
  l2t_w = _model(learn=(True, False))
  assert all("what" in v.name for v in l2t_w.meta_networks.trainable_variables)


@pytest.mark.parametrize("jit_compile", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_compiled_step_matches_eager(float64, jit_compile):
  # float64: the second-order float32 gradients of XLA and TF's kernels differ
  # by ~1e-3 relative through round-off alone, which would hide a real bug.
  # Average pooling: XLA on CPU has no float64 MaxPoolGradGrad (float32 has).
  images, labels = tiny.batch()
  model = _model(pooling="avg")
  source_maps, pooled = model.source_features(images)
  args = (images, labels, source_maps, pooled, LEARNING_RATE)
  eager = np.concatenate([np.ravel(g) for g in model.meta_gradient(*args)])
  compiled = np.concatenate([np.ravel(g) for g in tf.function(
      model.meta_gradient, jit_compile=jit_compile)(*args)])
  assert np.linalg.norm(eager - compiled) / np.linalg.norm(eager) < 1e-8
  # A whole step (phi after Adam is not compared: Adam divides by |g|, so a
  # near-zero gradient entry magnifies float32 round-off without bound).
  eager_model, compiled_model = _model(pooling="avg"), _model(pooling="avg")
  eager_model.train_step((images, labels))
  tf.function(compiled_model.train_step, jit_compile=jit_compile)((images, labels))
  _assert_same(_state(eager_model)["theta"], _state(compiled_model)["theta"],
               atol=1e-10)


@pytest.mark.slow
def test_mirrored_strategy_matches_single_device(mirrored):
  """Two replicas of 4 examples equal one device on the same global batch of 8."""
  images, labels = tiny.batch(n=8)
  dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)

  def train(strategy):
    with strategy.scope():
      model = _model(batch_norm=False)
    model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    return _state(model)

  single = train(tf.distribute.get_strategy())
  mirrored = train(mirrored)
  _assert_same(single["theta"], mirrored["theta"], atol=1e-5)
  _assert_same(single["phi"], mirrored["phi"], atol=1e-5)
  assert any(not np.allclose(a, b) for a, b in zip(single["phi"],
                                                   _model(batch_norm=False)
                                                   .meta_networks.get_weights()))


def _meta_gradient(model):
  images, labels = tiny.batch()
  source_maps, pooled = model.source_features(images)
  return np.concatenate([np.ravel(g) for g in model.meta_gradient(
      images, labels, source_maps, pooled, LEARNING_RATE)])


def test_first_order_is_exact_without_a_chain_of_steps(float64):
  """T = 1, 2-stage: theta_1 depends on phi only through one gradient taken at
  theta_0, which does not depend on phi; first order drops nothing there."""
  exact, first = _model(1, "two_stage"), _model(1, "two_stage")
  first.first_order = True
  np.testing.assert_allclose(_meta_gradient(first), _meta_gradient(exact),
                             rtol=1e-10, atol=1e-14)


def test_first_order_approximates_the_exact_meta_gradient(float64):
  """T = 2, 3-stage: it drops the Hessian-vector products along the steps, so
  it differs from the exact gradient, but points the same way here."""
  exact, first = _model(2), _model(2)
  first.first_order = True
  a, b = _meta_gradient(exact), _meta_gradient(first)
  cosine = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
  assert np.linalg.norm(a - b) / np.linalg.norm(a) > 1e-6  # an approximation
  assert cosine > 0.9, cosine


@pytest.mark.parametrize("meta_every, meta_start, moves", [
    (1, 2, [False, False, True, True]),   # no meta step in the first 2 batches
    (2, 0, [True, False, True, False]),   # a meta step every other batch
])
def test_meta_steps_follow_meta_every_and_meta_start(meta_every, meta_start, moves):
  model = _model()
  model.meta_every, model.meta_start = meta_every, meta_start
  step = tf.function(model.train_step)
  moved = []
  for _ in moves:
    before = [v.numpy().copy() for v in model.meta_networks.trainable_variables]
    step(tiny.batch())
    moved.append(any(not np.array_equal(b, v.numpy()) for b, v in
                     zip(before, model.meta_networks.trainable_variables)))
  assert moved == moves


def _with_meta_set(model):
  meta_images, meta_labels = tiny.batch(n=9, seed=5)
  model.objective = "alignment"
  model.meta_set = (tf.constant(meta_images), tf.constant(meta_labels))
  return model


def _meta_loss(model, params):
  images, labels = model.meta_set
  outputs, _ = model.with_regressors.stateless_call(
      params, [v.value for v in model.with_regressors.non_trainable_variables],
      images, training=True)
  return common.cross_entropy(labels, outputs[0])


def _transfer_gradient(model, params, images, source_maps, pooled):
  """grad_theta L_wfm(theta, phi), differentiable in phi (reverse mode)."""
  statistics = [v.value for v in model.with_regressors.non_trainable_variables]
  channel_weights, pair_weights = model.meta_networks(pooled)
  with tf.GradientTape() as tape:
    tape.watch(params)
    outputs, _ = model.with_regressors.stateless_call(params, statistics, images,
                                                      training=True)
    loss, _ = losses.weighted_feature_matching(outputs[1:], source_maps,
                                               channel_weights, pair_weights,
                                               model.beta)
  return tape.gradient(loss, params,
                       unconnected_gradients=tf.UnconnectedGradients.ZERO)


def test_alignment_gradient_equals_reverse_mode_and_a_small_look_ahead(float64):
  """Forward mode (the estimator) against two independent computations:
  reverse mode through -<u, grad L_wfm(phi)>, and the meta-gradient of
  CE_meta after one plain SGD step of size a on L_wfm, divided by a."""
  model = _with_meta_set(_model())
  images, _ = tiny.batch()
  source_maps, pooled = model.source_features(images)
  estimate = np.concatenate([np.ravel(g) for g in model.alignment_gradient(
      images, source_maps, pooled)])
  theta = [v.value for v in model.with_regressors.trainable_variables]
  phi = model.meta_networks.trainable_variables
  with tf.GradientTape() as tape:
    tape.watch(theta)
    meta = _meta_loss(model, theta)
  u = [tf.stop_gradient(g) for g in tape.gradient(
      meta, theta, unconnected_gradients=tf.UnconnectedGradients.ZERO)]

  with tf.GradientTape() as tape:
    grads = _transfer_gradient(model, theta, images, source_maps, pooled)
    inner = -tf.add_n([tf.reduce_sum(a * b) for a, b in zip(u, grads)])
  reverse = np.concatenate([np.ravel(g) for g in tape.gradient(inner, phi)])
  assert np.linalg.norm(reverse) > 1e-6  # the test measures something
  np.testing.assert_allclose(estimate, reverse, rtol=1e-7, atol=1e-12)

  step = 1e-6
  with tf.GradientTape() as tape:
    grads = _transfer_gradient(model, theta, images, source_maps, pooled)
    after = _meta_loss(model, [t - step * g for t, g in zip(theta, grads)])
  look_ahead = np.concatenate([np.ravel(g) / step for g in tape.gradient(after, phi)])
  error = np.linalg.norm(estimate - look_ahead) / np.linalg.norm(look_ahead)
  assert error < 1e-4, error


def test_placebo_applies_the_meta_gradient_with_its_sign_flipped():
  images, labels = tiny.batch()
  moves = []
  for placebo in (False, True):
    model = _with_meta_set(_model())
    model.placebo = placebo
    start = [v.numpy() for v in model.meta_networks.trainable_variables]
    model.fit(images, labels, batch_size=len(images), epochs=1, verbose=0)
    moves.append(np.concatenate([np.ravel(v.numpy() - s) for v, s in zip(
        model.meta_networks.trainable_variables, start)]))
  assert np.abs(moves[0]).max() > 1e-4
  # Adam's first step is -lr * sign(g): the placebo's is the exact mirror.
  np.testing.assert_allclose(moves[1], -moves[0], rtol=1e-3, atol=1e-7)


@pytest.mark.slow
def test_heldout_look_ahead_matches_finite_differences(float64):
  """The paper's look-ahead with its last cross-entropy on the meta set."""
  model = _with_meta_set(_model(1))
  model.objective = "heldout_lookahead"
  images, labels = tiny.batch()
  source_maps, pooled = model.source_features(images)
  args = (images, labels, source_maps, pooled, LEARNING_RATE)
  analytic = np.concatenate([np.ravel(g) for g in model.meta_gradient(*args)])
  numeric = _central_differences(model, args)
  assert np.linalg.norm(numeric) > 1e-4
  assert np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric) < 1e-3
  held_out = float(model.meta_objective(*args))
  model.objective = "lookahead"  # the training batch's CE is another value
  assert abs(held_out - float(model.meta_objective(*args))) > 1e-3


@pytest.mark.parametrize("lookahead_lr", [0.0, 0.25])
def test_the_look_ahead_steps_at_lookahead_lr_or_the_training_rate(lookahead_lr):
  model = _model()
  model.lookahead_lr = lookahead_lr
  seen, estimate = [], model.estimate
  def recording(*args):
    seen.append(float(args[-1]))
    return estimate(*args)
  model.estimate = recording
  model.train_step(tiny.batch())  # eagerly
  training_rate = float(model.optimizer.learning_rate)
  assert training_rate != 0.25
  assert seen == [pytest.approx(lookahead_lr or training_rate)]
