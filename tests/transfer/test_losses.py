import numpy as np
import tensorflow as tf

from l2t_tf.transfer import losses


def test_weighted_feature_matching_by_hand():
  rng = np.random.RandomState(0)
  # Two pairs, batch 2: pair 0 at 2x2 with 3 channels (source 4x4, resized),
  # pair 1 at 1x1 with 2 channels.
  source0 = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
  regressed0 = rng.normal(size=(2, 2, 2, 3)).astype(np.float32)
  source1 = rng.normal(size=(2, 1, 1, 2)).astype(np.float32)
  regressed1 = rng.normal(size=(2, 1, 1, 2)).astype(np.float32)
  w0 = np.array([[0.2, 0.3, 0.5], [1 / 3, 1 / 3, 1 / 3]], np.float32)
  w1 = np.array([[0.9, 0.1], [0.5, 0.5]], np.float32)
  lam = np.array([[1.5, 0.0], [0.5, 2.0]], np.float32)

  # Bilinear 4x4 -> 2x2 with half-pixel centres samples at 1.5 (between 1 and
  # 2), i.e. the mean of each 2x2 block.
  resized0 = source0.reshape(2, 2, 2, 2, 2, 3).mean(axis=(2, 4))
  d0 = ((regressed0 - resized0) ** 2).mean(axis=(1, 2))   # [B, C]
  d1 = ((regressed1 - source1) ** 2).mean(axis=(1, 2))
  pair0 = np.mean(lam[:, 0] * (w0 * d0).sum(1))
  pair1 = np.mean(lam[:, 1] * (w1 * d1).sum(1))
  expected = 0.5 * (pair0 + pair1)

  resized = losses.resize_like(tf.constant(source0), 2, 2)
  np.testing.assert_allclose(resized, resized0, rtol=1e-5)
  total, per_pair = losses.weighted_feature_matching(
      [regressed0, regressed1], [resized, source1], [w0, w1], lam, beta=0.5)
  np.testing.assert_allclose(per_pair, [pair0, pair1], rtol=1e-5)
  np.testing.assert_allclose(total, expected, rtol=1e-5)


def test_resize_keeps_dtype():
  x = tf.zeros((1, 4, 4, 2), tf.float64)
  assert losses.resize_like(x, 2, 2).dtype == tf.float64
