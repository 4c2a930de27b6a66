"""Known-answer sources: a decoy (random weights) and a noisy source (noise channels)."""
import keras
import numpy as np
import pytest

from l2t_tf import methods
from l2t_tf.models import backbones


@pytest.fixture(name="real_path")
def _real_path(tmp_path):
  real = backbones.resnet_cifar(20, 3, input_shape=(8, 8, 3), width=0.25)
  path = str(tmp_path / "real.keras")
  real.save(path)
  return path


def _images(seed=0):
  return np.random.RandomState(seed).normal(1.0, 2.0, (16, 8, 8, 3)).astype(np.float32)


def test_decoy_source_is_random_with_calibrated_batchnorm(real_path):
  real = methods.load_source(real_path)
  images = _images()
  decoy = methods.load_source(f"decoy:{real_path}", images)
  assert backbones.feature_points(decoy) == backbones.feature_points(real)
  assert not np.allclose(decoy.get_layer("stem_conv").kernel.numpy(),
                         real.get_layer("stem_conv").kernel.numpy())
  # The stem's BatchNorm holds the statistics of the calibration batch exactly.
  stem = keras.Model(decoy.input, decoy.get_layer("stem_conv").output)(images)
  stem = np.asarray(stem).reshape(-1, stem.shape[-1])
  bn = decoy.get_layer("stem_bn")
  np.testing.assert_allclose(bn.moving_mean.numpy(), stem.mean(0), rtol=1e-4,
                             atol=1e-5)
  np.testing.assert_allclose(bn.moving_variance.numpy(), stem.var(0), rtol=1e-3)
  assert bn.momentum == 0.9  # restored after the calibration


def test_a_harmful_source_is_loaded_as_it_is(real_path):
  real = methods.load_source(real_path)
  harmful = methods.load_source(f"harmful:{real_path}", _images())
  assert backbones.feature_points(harmful) == backbones.feature_points(real)
  for a, b in zip(real.get_weights(), harmful.get_weights()):
    np.testing.assert_array_equal(a, b)


def test_noisy_source_keeps_real_channels_and_adds_scaled_fresh_noise(real_path):
  real = methods.load_source(real_path)
  images = _images()
  noisy = methods.load_source(f"noisy:{real_path}", images)
  points = backbones.feature_points(real)
  assert backbones.feature_points(noisy) == points
  real_maps = backbones.feature_extractor(real)(images)
  first = backbones.feature_extractor(noisy)(images)
  second = backbones.feature_extractor(noisy)(images)
  np.testing.assert_allclose(first[0], real_maps[0], atol=1e-5)  # logits
  for real_map, a, b in zip(real_maps[1:], first[1:], second[1:]):
    channels = real_map.shape[-1]
    assert a.shape[-1] == 2 * channels
    np.testing.assert_allclose(a[..., :channels], real_map, atol=1e-5)
    noise, again = np.asarray(a[..., channels:]), np.asarray(b[..., channels:])
    assert not np.allclose(noise, again)  # fresh on every call
    # Same scale as the real values (mean and std over the calibration batch).
    np.testing.assert_allclose(noise.std(), np.std(real_map), rtol=0.15)
    assert abs(noise.mean() - np.mean(real_map)) < 0.15 * np.std(real_map)
