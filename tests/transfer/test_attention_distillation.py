"""AT, JM and KD losses against values computed by hand on tiny inputs."""
import numpy as np
import pytest
import tensorflow as tf

from l2t_tf.transfer import attention, distillation


def test_attention_map_by_hand():
  # One sample, 1x2 positions, 2 channels: mean_c A^2 = [(1+9)/2, (4+0)/2] = [5, 2].
  features = np.array([[[[1.0, -3.0], [2.0, 0.0]]]], np.float32)
  expected = np.array([[5.0, 2.0]]) / np.sqrt(29.0)
  np.testing.assert_allclose(attention.attention_map(features), expected, rtol=1e-6)


def test_attention_loss_by_hand():
  target = np.array([[[[1.0, -3.0], [2.0, 0.0]]]], np.float32)  # Q = [5, 2]/sqrt(29)
  source = np.array([[[[0.0], [1.0]]]], np.float32)             # Q = [0, 1]
  q_t = np.array([5.0, 2.0]) / np.sqrt(29.0)
  expected = ((q_t[0] - 0.0) ** 2 + (q_t[1] - 1.0) ** 2) / 2
  assert float(attention.attention_loss(target, source)) == pytest.approx(expected,
                                                                          rel=1e-6)
  assert float(attention.attention_loss(target, target)) == pytest.approx(0.0, abs=1e-12)


def test_distillation_loss_by_hand():
  student = np.array([[0.0, 0.0]], np.float32)
  teacher = np.array([[np.log(3.0), 0.0]], np.float32)  # softmax at T=1: [3/4, 1/4]
  # T = 1: KL([3/4, 1/4] || [1/2, 1/2]) = 3/4 ln(3/2) + 1/4 ln(1/2).
  expected = 0.75 * np.log(1.5) + 0.25 * np.log(0.5)
  assert float(distillation.distillation_loss(student, teacher, 1.0)) == pytest.approx(
      expected, rel=1e-5)
  # T = 2: teacher softmax(ln3/2, 0) = [sqrt3, 1]/(sqrt3+1); times T^2 = 4.
  p = np.array([np.sqrt(3.0), 1.0]) / (np.sqrt(3.0) + 1)
  expected = 4 * np.sum(p * np.log(p / 0.5))
  assert float(distillation.distillation_loss(student, teacher, 2.0)) == pytest.approx(
      expected, rel=1e-5)
  # LwF's form, without T^2:
  assert float(distillation.distillation_loss(
      student, teacher, 2.0, t_squared=False)) == pytest.approx(expected / 4, rel=1e-5)


def test_distillation_gradient_is_the_softened_difference():
  """d/ds of T^2 KL = T (softmax(s/T) - softmax(t/T)): Hinton et al.'s eq. (2)."""
  student = tf.Variable([[0.5, -1.0, 2.0]])
  teacher = tf.constant([[1.0, 0.0, -1.0]])
  with tf.GradientTape() as tape:
    loss = distillation.distillation_loss(student, teacher, 3.0)
  expected = 3.0 * (tf.nn.softmax(student / 3.0) - tf.nn.softmax(teacher / 3.0))
  np.testing.assert_allclose(tape.gradient(loss, student), expected, rtol=1e-5)


def test_jacobian_loss_by_hand():
  # Linear "networks" on a 1x2x1 image: target features = x * [1, 2] per channel
  # -> Q = mean_c (w_c x)^2 = 2.5 x^2 per position; source w = [1]: Q = x^2.
  images = tf.constant([[[[1.0], [3.0]]]])
  target = lambda x: tf.concat([x, 2 * x], axis=-1)
  source = lambda x: x
  # Both peaks are at position 2 (x = 3): gradients are [0, 2*2.5*3] and
  # [0, 2*3]; normalised, both are [0, 1], so the loss is 0.
  assert float(attention.jacobian_loss(images, target, source)) == pytest.approx(
      0.0, abs=1e-12)
  # A source that mirrors the image peaks on the same pixel (x = 3): loss 0.
  flipped = lambda x: tf.reverse(x, axis=[2])
  assert float(attention.jacobian_loss(images, target, flipped)) == pytest.approx(
      0.0, abs=1e-12)
  # A source scaling pixel 1 by 10 peaks there (Q = [100, 9]): its normalised
  # gradient is [1, 0] against the target's [0, 1], a squared distance of 2.
  other = lambda x: x * tf.constant([[[[10.0], [1.0]]]])
  assert float(attention.jacobian_loss(images, target, other)) == pytest.approx(
      2.0, rel=1e-6)
