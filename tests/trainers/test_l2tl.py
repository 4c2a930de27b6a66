"""JointTransfer (L2TL): Eq. 1 with top-B_S selection, the baseline, the policy modes."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tiny
from l2t_tf import checkpoints, methods, optim
from l2t_tf.errors import UserError
from l2t_tf.trainers.common import cross_entropy
from l2t_tf.trainers.l2tl import JointTransfer
from l2t_tf.transfer import policy as policy_lib

SOURCE_CLASSES, SOURCE_BATCH, MULTIPLIER = 4, 4, 2


def _model(mode="learned", pretrain_steps=0, policy_lr=0.05, l2=1e-4,
           batch_norm=True, source_batch=SOURCE_BATCH, statistics="separate",
           **options):
  keras.utils.set_random_seed(0)
  target = tiny.target(classes=3, batch_norm=batch_norm)
  features = target.layers[-1].input
  joint = keras.Model(target.input, [target.output, keras.layers.Dense(
      SOURCE_CLASSES, name="source_logits")(features)])
  model = JointTransfer(target, joint,
                        policy_lib.ClassWeightPolicy(SOURCE_CLASSES, actions=11,
                                                     alpha_actions=5),
                        mode=mode, source_batch_size=source_batch,
                        baseline_decay=0.05, entropy_weight=1e-3,
                        pretrain_steps=pretrain_steps, seed=7,
                        batch_norm=statistics, **options)
  model.compile(optim.SGDL2(learning_rate=0.05, momentum=0.9, l2=l2),
                optim.AdamL2(learning_rate=policy_lr))
  return model


def _data(seed=0, source_count=SOURCE_BATCH * MULTIPLIER):
  target = tiny.batch(6, classes=3, seed=seed)
  images, _ = tiny.batch(source_count, seed=seed + 1)
  source = (images, np.arange(source_count) % SOURCE_CLASSES)
  validation = tiny.batch(6, classes=3, seed=seed + 2)
  return tuple(tuple(tf.constant(a) for a in part)
               for part in (target, source, validation))


def _train(model, data, steps=1):
  dataset = tf.data.Dataset.from_tensors(data).repeat(steps)
  return model.fit(dataset, epochs=1, verbose=0, shuffle=False).history


@pytest.mark.parametrize("statistics", ["separate", "shared"])
def test_loss_is_eq1_on_the_top_weighted_source_examples(statistics):
  model = _model(statistics=statistics)
  data = _data()
  (target_images, target_labels), (source_images, source_labels), _ = data
  # What the first step samples, and an independent top-B_S selection.
  class_actions, alpha_action = model.policy.sample(tf.constant([7, 0], tf.int64))
  class_weights = np.asarray(class_actions) / 10
  alpha = float(alpha_action) * 0.5 / 4
  weights = class_weights[source_labels.numpy()]
  chosen = np.argsort(-weights, kind="stable")[:SOURCE_BATCH]
  chosen_images = tf.gather(source_images, chosen)
  if statistics == "shared":  # one batch: BatchNorm normalises both together
    target_logits, source_logits = model.joint(tf.concat(
        [target_images, chosen_images], 0), training=True)
    target_logits, source_logits = target_logits[:6], source_logits[6:]
  else:  # each batch with its own statistics
    target_logits = model.joint(target_images, training=True)[0]
    source_logits = model.joint(chosen_images, training=True)[1]
  ce = keras.losses.sparse_categorical_crossentropy
  expected = (alpha * np.mean(weights[chosen] * ce(
      source_labels.numpy()[chosen], source_logits, from_logits=True))
              + np.mean(ce(target_labels, target_logits, from_logits=True)))
  history = _train(model, data)
  assert history["loss"][0] == pytest.approx(float(expected), rel=1e-5)
  assert history["alpha"][0] == pytest.approx(alpha)


def _moving_statistics(model) -> list[np.ndarray]:
  return [v.numpy().copy() for v in model.joint.non_trainable_variables]


@pytest.mark.parametrize("pretrain_steps", [0, 1])
def test_the_moving_statistics_see_one_domain(pretrain_steps):
  """Joint steps: the target's statistics alone (the source pass's updates are
  undone). Pre-training: the source's alone (no target image goes through)."""
  data = _data()
  (target_images, _), (source_images, _), _ = data
  reference = _model(pretrain_steps=pretrain_steps)
  if pretrain_steps:  # all M_S * B_S are kept: every class weighs 1
    reference.joint(source_images[:SOURCE_BATCH], training=True)
  else:
    reference.joint(target_images, training=True)
  expected = _moving_statistics(reference)
  model = _model(pretrain_steps=pretrain_steps)
  before = _moving_statistics(model)
  _train(model, data)
  after = _moving_statistics(model)
  assert any(not np.allclose(a, b) for a, b in zip(before, after))
  for got, want in zip(after, expected):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
  if not pretrain_steps:  # the control: one mixed pass mixes the statistics
    shared = _model(statistics="shared")
    _train(shared, data)
    assert any(not np.allclose(a, b, atol=1e-6)
               for a, b in zip(_moving_statistics(shared), expected))


def test_baseline_follows_the_moving_average_of_rewards():
  model = _model()
  reward = tf.Variable(0.0)
  model.reward_fn = lambda labels, logits: tf.identity(reward)
  data = _data()
  reward.assign(0.4)
  _train(model, data)
  assert float(model.baseline) == pytest.approx(0.4)  # the first reward starts it
  reward.assign(0.9)
  _train(model, data)
  assert float(model.baseline) == pytest.approx(0.95 * 0.4 + 0.05 * 0.9)


def test_a_reward_that_favours_one_class_makes_it_weigh_most():
  model = _model(policy_lr=0.05)
  favoured = 2
  _, _, validation = _data()
  weight = tf.Variable(0.0)
  model.reward_fn = lambda labels, logits: tf.identity(weight)
  step = tf.function(model.policy_step)
  for i in range(300):
    actions = model.policy.sample(tf.constant([1, i], tf.int64))
    weight.assign(model.policy.weights_of(*actions)[0][favoured])
    step(validation, actions)
  expected = model.policy.expected_class_weights().numpy()
  assert expected.argmax() == favoured and expected[favoured] > 0.8, expected


@pytest.mark.parametrize("mode", ["learned", "random", "uniform", "fixed", "finetune"])
def test_which_parts_each_policy_mode_trains(mode):
  model = _model(mode, fixed_weights=[1.0, 0.0, 1.0, 0.0] if mode == "fixed" else None)
  # A reward that varies from step to step (accuracy on 6 images would not).
  model.reward_fn = lambda labels, logits: -cross_entropy(labels, logits)
  class_logits = model.policy.class_logits.numpy().copy()
  alpha_logits = model.policy.alpha_logits.numpy().copy()
  target_weights = [w.copy() for w in model.target.get_weights()]
  _train(model, _data(), steps=3)
  moved = lambda a, b: not np.allclose(a, b)
  assert moved(class_logits, model.policy.class_logits.numpy()) == (mode == "learned")
  assert moved(alpha_logits, model.policy.alpha_logits.numpy()) == (mode != "finetune")
  assert any(moved(a, b) for a, b in zip(target_weights, model.target.get_weights()))


def test_pretraining_trains_on_the_source_alone():
  model = _model(pretrain_steps=2, l2=0.0)
  head = model.target.layers[-1].get_weights()
  policy = [v.numpy().copy() for v in model.policy.trainable_variables]
  encoder = model.target.get_layer("c1_conv").get_weights()[0].copy()
  history = _train(model, _data(), steps=2)
  assert history["alpha"][0] == 1.0
  for a, b in zip(head, model.target.layers[-1].get_weights()):  # no target loss
    np.testing.assert_array_equal(a, b)
  for a, v in zip(policy, model.policy.trainable_variables):  # no policy step
    np.testing.assert_array_equal(a, v.numpy())
  assert not np.allclose(encoder, model.target.get_layer("c1_conv").get_weights()[0])


@pytest.mark.slow
def test_mirrored_strategy_matches_single_device(mirrored):
  """Two replicas equal one device on the same global batches (no BatchNorm;
  M_S = 1, so that every source example is kept on both)."""
  data = _data(source_count=8)
  dataset = tf.data.Dataset.from_tensors(data).repeat(2)

  def train(strategy):
    with strategy.scope():
      model = _model(batch_norm=False, source_batch=8)
      # A reward that varies from step to step, so that the policy moves.
      model.reward_fn = lambda labels, logits: -cross_entropy(labels, logits)
    model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    return [v.numpy() for v in model.joint.weights + model.policy.weights
            + [model.baseline]]

  single = train(tf.distribute.get_strategy())
  mirrored = train(mirrored)
  for a, b in zip(single, mirrored, strict=True):
    np.testing.assert_allclose(a, b, atol=1e-5)
  assert np.abs(single[-3]).max() > 0  # the policy's class logits moved


@pytest.mark.parametrize("jit_compile", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_compiled_step_matches_eager(jit_compile):
  """The same step math in eager, graph and XLA mode (with fixed actions: XLA's
  random numbers differ from TF's for the same seed)."""
  eager, compiled = _model(), _model()
  for model in (eager, compiled):
    model.policy.sample = lambda seed: (tf.constant([3, 9, 0, 5]), tf.constant(2))
  eager.compile(eager.optimizer, eager.policy_optimizer)
  eager.run_eagerly = True
  compiled.compile(compiled.optimizer, compiled.policy_optimizer,
                   jit_compile=jit_compile)
  data = _data()
  for model in (eager, compiled):
    _train(model, data, steps=2)
  for a, b in zip(eager.weights, compiled.weights, strict=True):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=2e-5)


def test_checkpoints_hold_the_policy_its_optimizer_and_the_baseline():
  model = _model()
  _train(model, _data())
  saved = {id(v) for v in checkpoints.training_variables(model)}
  for variable in (model.policy.class_logits, model.policy.alpha_logits,
                   model.baseline, *model.joint.weights,
                   *model.policy_optimizer.variables, *model.optimizer.variables):
    assert id(variable) in saved, variable.path


def test_a_pretrained_source_network_gives_the_encoder_and_source_head():
  from configs import quickstart  # pylint: disable=g-import-not-at-top
  config = quickstart.get_config()  # its source: a 5-class ResNet-32, 32x32x3
  config.method = "l2tl"
  source = methods.load_source(config.transfer.source_paths[0])
  model = methods.build_l2tl(config, 3, (32, 32, 3), source_classes=[f"c{i}" for i in range(5)])
  # g and h_S are the source's weights; h_T is new.
  encoder = model.target.get_layer(source.layers[1].name)
  np.testing.assert_array_equal(encoder.get_weights()[0],
                                source.layers[1].get_weights()[0])
  assert model.target.output_shape[-1] == 3
  images = np.zeros((2, 32, 32, 3), np.float32)
  np.testing.assert_allclose(model.joint(images)[1], source(images), atol=1e-6)
  with pytest.raises(UserError, match="takes inputs"):
    methods.build_l2tl(config, 3, (28, 28, 1), source_classes=[f"c{i}" for i in range(5)])


def test_fixed_weights_are_the_lambda_of_every_step():
  model = _model("fixed", fixed_weights=[0.0, 1.0, 0.0, 1.0])
  for step in range(3):
    weights, _ = model.weights_of(model.policy.sample(tf.constant([7, step], tf.int64)))
    np.testing.assert_array_equal(weights, [0.0, 1.0, 0.0, 1.0])


def _reference_alignment(model, data) -> np.ndarray:
  """a_k = <grad CE_val, grad (1/N) sum_{j in k} CE_S,j> by reverse mode, one
  class at a time (the trainer does all classes in one forward-mode pass)."""
  _, (source_images, source_labels), (val_images, val_labels) = data
  theta = [v.value for v in model.joint.trainable_variables]  # tf.Variables
  with tf.GradientTape() as tape:
    val = cross_entropy(val_labels, model.joint(val_images, training=False)[0])
  direction = tape.gradient(val, theta, unconnected_gradients=tf.UnconnectedGradients.ZERO)
  statistics = [v.numpy().copy() for v in model.joint.non_trainable_variables]
  alignment = []
  for k in range(SOURCE_CLASSES):
    with tf.GradientTape() as tape:
      logits = model.joint(source_images, training=True)[1]
      per_example = keras.losses.sparse_categorical_crossentropy(
          source_labels, logits, from_logits=True)
      loss = tf.reduce_sum(tf.where(source_labels == k, per_example, 0.0)) / len(
          source_labels.numpy())
    grads = tape.gradient(loss, theta, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    alignment.append(sum(float(tf.reduce_sum(a * b)) for a, b in zip(direction, grads)))
  for variable, value in zip(model.joint.non_trainable_variables, statistics):
    variable.assign(value)
  return np.asarray(alignment)


def test_the_alignment_estimator_matches_reverse_mode_and_climbs_it():
  model = _model(estimator="alignment")
  data = _data()
  _, (source_images, source_labels), validation = data
  expected = _reference_alignment(model, data)
  model.alignment_step(validation, source_images, source_labels)
  scaled = expected / np.sqrt(np.mean(expected ** 2))
  np.testing.assert_allclose(model.signal["class_signal"].numpy(), scaled, atol=1e-4)
  # One Adam step from uniform logits raises E[lambda] where a_k > 0.
  change = model.policy.expected_class_weights().numpy() - 0.5
  np.testing.assert_array_equal(np.sign(change), np.sign(expected))


@pytest.mark.parametrize("estimator", ["reinforce", "antithetic", "alignment"])
def test_the_placebo_takes_the_opposite_policy_step(estimator):
  data = _data()
  moves = []
  for placebo in (False, True):
    model = _model(estimator=estimator, placebo=placebo)
    model.reward_fn = lambda labels, logits: -cross_entropy(labels, logits)
    # From uniform logits, where the entropy bonus has no gradient; REINFORCE's
    # first step only starts the baseline (advantage 0).
    _train(model, data, steps=2 if estimator == "reinforce" else 1)
    moves.append(model.policy.class_logits.numpy())
  assert np.abs(moves[0]).max() > 1e-3
  np.testing.assert_allclose(moves[1], -moves[0], atol=1e-6)


def test_the_antithetic_step_scores_both_draws_from_one_state():
  """The advantage is (R - R') / 2 of two look-ahead steps from the same
  weights (computed here by hand), and the real step is the first draw's."""
  data = _data()
  (target_images, target_labels), (source_images, source_labels), validation = data
  model = _model(estimator="antithetic")
  model.reward_fn = lambda labels, logits: -cross_entropy(labels, logits)
  draws = model.policy.sample_antithetic(tf.constant([7, 0], tf.int64))
  theta = [v.value for v in model.joint.trainable_variables]  # tf.Variables
  start = [v.numpy().copy() for v in theta]
  statistics = [v.numpy().copy() for v in model.joint.non_trainable_variables]
  rewards, first_step = [], None
  for actions in draws:
    for variable, value in zip(model.joint.non_trainable_variables, statistics):
      variable.assign(value)
    class_weights = np.asarray(actions[0]) / 10
    alpha = float(actions[1]) * 0.5 / 4
    weights = class_weights[source_labels.numpy()]
    chosen = np.argsort(-weights, kind="stable")[:SOURCE_BATCH]
    with tf.GradientTape() as tape:
      target_logits = model.joint(target_images, training=True)[0]
      kept = [v.numpy().copy() for v in model.joint.non_trainable_variables]
      source_logits = model.joint(tf.gather(source_images, chosen), training=True)[1]
      loss = alpha * tf.reduce_mean(weights[chosen] * keras.losses.
                                    sparse_categorical_crossentropy(
          tf.gather(source_labels, chosen), source_logits, from_logits=True)) + \
          cross_entropy(target_labels, target_logits)
    grads = tape.gradient(loss, theta, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    for variable, value in zip(model.joint.non_trainable_variables, kept):
      variable.assign(value)  # the moving statistics stay the target's
    first_step = first_step or grads
    for variable, value, grad in zip(theta, start, grads):
      variable.assign(value - 0.01 * grad)
    rewards.append(-float(cross_entropy(validation[1],
                                        model.target(validation[0], training=False))))
    for variable, value in zip(theta, start):
      variable.assign(value)
  for variable, value in zip(model.joint.non_trainable_variables, statistics):
    variable.assign(value)
  history = _train(model, data)
  assert history["advantage"][0] == pytest.approx((rewards[0] - rewards[1]) / 2,
                                                  rel=1e-3, abs=1e-6)
  assert history["reward"][0] == pytest.approx((rewards[0] + rewards[1]) / 2, rel=1e-4)
  plain = _model(mode="learned")  # the same first step, taken by hand
  plain.optimizer.apply(first_step, plain.joint.trainable_variables)
  for a, b in zip(plain.joint.trainable_variables, model.joint.trainable_variables):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["antithetic", "alignment"])
def test_the_estimators_run_under_mirrored_strategy(mirrored, estimator):
  """Each replica scores its share; the replicas take one policy step."""
  dataset = tf.data.Dataset.from_tensors(_data(source_count=8)).repeat(2)
  with mirrored.scope():
    model = _model(batch_norm=False, source_batch=8, estimator=estimator)
    model.reward_fn = lambda labels, logits: -cross_entropy(labels, logits)
  model.fit(dataset, epochs=1, verbose=0, shuffle=False)
  assert np.abs(model.policy.class_logits.numpy()).max() > 0
