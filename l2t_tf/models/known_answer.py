"""Sources with a known answer for L2T-ww's meta-networks (issue #13).

- `decoy`: a source's architecture with fresh random weights. It holds
  nothing learned, so "where" (lambda) should weigh its pairs down.
- `noisy`: a source whose every feature point carries as many extra channels
  of pure noise as it has real ones. Matching noise cannot help the target, so
  "what" (w) should put less than half its mass on the noise half.

- `harmful`: a source loaded as it is, marked as one that should be weighed
  down (e.g. configs/fashion_mnist_source.py:scrambled, which memorised the
  target's own images under random labels: matching it hurts at fixed weights).

The first two take target images (`calibration_images`) so that their random
parts have the scale of a trained network's features.
"""
import keras
from keras import ops

from l2t_tf.models import backbones

DECOY, NOISY = "decoy:", "noisy:"  # the source_paths prefixes that build them
HARMFUL = "harmful:"
WEIGHED_DOWN = (DECOY, HARMFUL)  # sources whose pairs "where" should weigh down


def harmful(source: keras.Model, calibration_images=None) -> keras.Model:  # pylint: disable=unused-argument
  """`source` itself: the prefix only marks it for the known-answer verdict."""
  return source


def decoy(source: keras.Model, calibration_images=None) -> keras.Model:
  """`source`'s architecture, random weights, BatchNorm statistics from the images."""
  model = keras.models.clone_model(source)  # new weights from the initialisers
  model.name = f"decoy_{source.name}"
  if calibration_images is not None:
    norms = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    momenta = [l.momentum for l in norms]
    for layer in norms:  # moving statistics := this batch's, layer after layer
      layer.momentum = 0.0
    model(calibration_images, training=True)
    for layer, momentum in zip(norms, momenta):
      layer.momentum = momentum
  return model


class NoiseChannels(keras.layers.Layer):
  """Appends as many channels of N(mean, std) noise as its input has, fresh per call."""

  def __init__(self, mean: float, std: float, seed: int = 0, **kwargs):
    super().__init__(**kwargs)
    self.mean, self.std = float(mean), float(std)
    self.seed_generator = keras.random.SeedGenerator(seed)

  def call(self, features):
    noise = keras.random.normal(ops.shape(features), self.mean, self.std,
                                seed=self.seed_generator)
    return ops.concatenate([features, ops.cast(noise, features.dtype)], axis=-1)

  def compute_output_shape(self, input_shape):
    return (*input_shape[:-1], 2 * input_shape[-1])


def noisy(source: keras.Model, calibration_images=None, seed: int = 0) -> keras.Model:
  """`source` whose feature points are [real channels, as many noise channels].

  The noise has the mean and std of each point's real values on the images
  (0 and 1 without images). The model's outputs are [logits, *points].
  """
  extractor = backbones.feature_extractor(source)
  points = backbones.feature_points(source)
  scales = [(0.0, 1.0)] * len(points)
  if calibration_images is not None:
    maps = extractor(calibration_images, training=False)[1:]
    scales = [(float(ops.mean(m)), float(ops.std(m))) for m in maps]
  inputs = keras.Input(source.input_shape[1:])
  logits, *maps = extractor(inputs)
  outputs = [NoiseChannels(mean, std, seed=seed + i, name=point)(m)
             for i, (point, m, (mean, std)) in enumerate(zip(points, maps, scales))]
  return keras.Model(inputs, [logits, *outputs], name=f"noisy_{source.name}")
