"""Known answers for L2T-ww's meta-gradient, on tiny data (issue #13).

The source reads the label (every channel is tanh(3 x image channel 0),
whose mean carries the class), so matching it helps the target; a decoy
(random weights) and noise channels carry nothing the target can use. After
60 steps of training the target, the meta-gradient averaged over batches
must prefer the real source's pairs to the decoy's, and the real channels to
the noise channels where they are matched to the target's last feature point.
(Measured over 5 seeds: both hold in 5 of 5 after 60 steps; after 20 steps
"where" holds in 3 of 5; at the target's first point, 8x8 after one conv,
the meta-gradient prefers the noise channels in 5 of 5. docs/results.md.)
Tested on the mean meta-gradient, not on phi after
training: on these tiny runs phi's change after a few Adam steps has the
same sign when the meta-gradient's sign is flipped (lambda and w are means
over samples of convex functions of a randomly moving phi), so it cannot
tell learning from drift.
"""
import keras
import numpy as np
import tensorflow as tf

from l2t_tf import analysis, api, optim
from l2t_tf.models import backbones, known_answer
from l2t_tf.trainers.l2t_ww import LearnedTransfer
from l2t_tf.transfer import pairs as pairs_lib
from l2t_tf.transfer.meta_networks import MetaNetworks
import tiny



def _data(n=256, seed=0):
  rng = np.random.RandomState(seed)
  labels = np.arange(n) % 2
  images = rng.normal(0, 1, (n, 8, 8, 3)).astype("float32")
  images[..., 0] += 0.7 * (2 * labels - 1)[:, None, None]
  return images, labels


def _label_reading_source() -> keras.Model:
  images = keras.Input((8, 8, 3))
  conv = keras.layers.Conv2D(4, 1, activation="tanh")
  features = keras.layers.Identity(name="feature_s1")(conv(images))
  pooled = keras.layers.GlobalAveragePooling2D()(features)
  model = keras.Model(images, keras.layers.Dense(2)(pooled))
  kernel = np.zeros((1, 1, 3, 4), "float32")
  kernel[0, 0, 0, :] = 3.0
  conv.set_weights([kernel, np.zeros(4, "float32")])
  return model


def _mean_meta_gradient(sources, seed=0, warm_up_steps=60, target_point=None):
  """Trains the target for a few steps with phi fixed, then averages the meta-gradient."""
  keras.utils.set_random_seed(seed)
  images, labels = _data(seed=seed)
  target = tiny.target(classes=2)
  points = [p for k, s in enumerate(sources) for p in tiny.points(s, k)]
  pairs = pairs_lib.build_pairs("all_to_all", points, tiny.points(target, -1))
  pairs = [p for p in pairs if target_point in (None, p.target.name)]
  meta = MetaNetworks([p.source.shape[-1] for p in pairs], where_init="neutral",
                      where_activation="softplus")
  model = LearnedTransfer(target, api.with_regressors(target, pairs),
                          [backbones.feature_extractor(s) for s in sources], pairs,
                          meta, freeze_meta=True)
  model.compile(optim.SGDL2(learning_rate=0.1, momentum=0.9, l2=1e-4),
                optim.AdamL2(learning_rate=1e-3))
  stream = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(
      256, seed=seed).repeat().batch(16)
  model.fit(stream, steps_per_epoch=warm_up_steps, epochs=1, verbose=0,
            shuffle=False)
  return pairs, analysis.mean_meta_gradient(model, stream, batches=30)


def test_where_the_meta_gradient_prefers_the_real_source_to_a_decoy():
  keras.utils.set_random_seed(100)  # the decoy's weights
  images, _ = _data()
  real = _label_reading_source()
  pairs, grads = _mean_meta_gradient([real, known_answer.decoy(real, images[:32])])
  # d meta-loss / d (where bias): > 0 asks for a lower lambda.
  by_source = {0: [], 1: []}
  for name, grad in grads.items():
    if name.startswith("where_bias_"):
      by_source[pairs[int(name.rsplit("_", 1)[1])].source.network].append(grad.sum())
  assert np.mean(by_source[0]) < np.mean(by_source[1]), by_source


def test_what_the_meta_gradient_prefers_real_channels_to_noise():
  keras.utils.set_random_seed(100)
  images, _ = _data()
  noisy = known_answer.noisy(_label_reading_source(), images[:32])
  _, grads = _mean_meta_gradient([noisy], target_point="feature_b")
  biases = [g for name, g in grads.items() if name.startswith("what_bias_")]
  assert len(biases) == 1
  for grad in biases:  # d meta-loss / d (channel logit): < 0 asks for more weight
    half = grad.shape[0] // 2
    assert grad[:half].mean() < 0 < grad[half:].mean(), grad
