"""The initialisation recipes and BatchNorm's moving statistics."""
import keras
import numpy as np
import pytest

from l2t_tf import api
from l2t_tf.errors import UserError
from l2t_tf.models import backbones
from l2t_tf.models.layers import BatchNorm, Recipe


def _std(model, layer):
  return float(np.std(model.get_layer(layer).kernel.numpy()))


def test_reference_init_is_the_authors_vgg():
  """He-normal over fan-out (9 * out), N(0, 0.01) classifier, as vgg_cifar.py."""
  keras.utils.set_random_seed(0)
  model = backbones.vgg9(num_classes=10, recipe=Recipe("reference"))
  # block2_0: 64 -> 128 channels, fan-out 9 * 128 (fan-in would be 9 * 64).
  assert _std(model, "block2_0_conv") == pytest.approx((2 / (9 * 128)) ** 0.5,
                                                       rel=0.02)
  assert _std(model, "block1_0_conv") == pytest.approx((2 / (9 * 64)) ** 0.5,
                                                       rel=0.05)
  assert _std(model, "logits") == pytest.approx(0.01, rel=0.1)
  assert not np.any(model.get_layer("logits").bias.numpy())


def test_keras_init_is_l2t_tf_0_1():
  keras.utils.set_random_seed(0)
  model = backbones.vgg9(num_classes=10, recipe=Recipe("keras"))
  assert _std(model, "block2_0_conv") == pytest.approx((2 / (9 * 64)) ** 0.5,
                                                       rel=0.02)
  # Glorot-uniform 512 -> 10: std sqrt(2 / 522).
  assert _std(model, "logits") == pytest.approx((2 / 522) ** 0.5, rel=0.1)


def test_reference_regressors_and_resnet_head_use_pytorchs_default():
  """nn.Conv2d / nn.Linear default: kernel and bias U(+-1/sqrt(fan_in))."""
  keras.utils.set_random_seed(0)
  recipe = Recipe("reference")
  inputs = keras.Input((4, 4, 64))
  regressor = recipe.regressor(32, 64, "r")
  regressor(inputs)
  kernel, bias = regressor.kernel.numpy(), regressor.bias.numpy()
  assert np.abs(kernel).max() <= 1 / 8 and np.abs(kernel).max() > 0.9 / 8
  assert np.abs(bias).max() <= 1 / 8 and np.any(bias)
  resnet = backbones.resnet_cifar(20, 10, recipe=recipe)
  head = resnet.get_layer("logits").kernel.numpy()
  assert np.abs(head).max() <= 1 / 8 and np.std(head) == pytest.approx(
      (1 / 3) ** 0.5 / 8, rel=0.1)


def test_unknown_init_is_refused():
  with pytest.raises(UserError, match="model.init"):
    Recipe("xavier")


@pytest.mark.parametrize("unbiased", [False, True])
def test_moving_variance_is_biased_or_unbiased_and_normalisation_is_not(unbiased):
  x = np.random.RandomState(0).normal(2.0, 3.0, size=(4, 2, 2, 3)).astype(np.float32)
  layer = BatchNorm(unbiased_moving_variance=unbiased)
  out = layer(x, training=True).numpy()
  flat = x.reshape(-1, 3)
  n = flat.shape[0]
  variance = flat.var(0) * (n / (n - 1) if unbiased else 1.0)
  np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * variance,
                             rtol=1e-5)
  np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * flat.mean(0),
                             rtol=1e-5)
  expected = (x - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-5)  # biased, both
  np.testing.assert_allclose(out, expected, atol=1e-4)


def test_unbiased_option_survives_save_and_load(tmp_path):
  model = backbones.vgg9(3, width=0.125, recipe=Recipe(unbiased_moving_variance=True))
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = keras.saving.load_model(path)
  assert loaded.get_layer("block1_0_bn").unbiased_moving_variance


def test_regressors_follow_the_recipe():
  import tiny  # pylint: disable=g-import-not-at-top
  target, source = tiny.target(), tiny.source()
  pairs = tiny.all_to_all(target, source)
  keras_regressors = api.with_regressors(target, pairs, Recipe("keras"))
  assert not np.any(keras_regressors.get_layer(index=-1).bias.numpy())
  reference = api.with_regressors(target, pairs, Recipe("reference"))
  assert np.any(reference.get_layer(index=-1).bias.numpy())


def test_the_saved_target_loads_in_plain_keras_and_predicts_the_same(tmp_path):
  """Issue #29: model.keras (layers.with_stock_layers) needs no l2t_tf import."""
  import os  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  from l2t_tf.models import layers  # pylint: disable=g-import-not-at-top
  keras.utils.set_random_seed(0)
  model = backbones.BACKBONES["resnet20"](num_classes=3, input_shape=(32, 32, 3),
                                          width=0.25)
  for layer in model.layers:  # statistics away from their start
    if isinstance(layer, BatchNorm):
      layer.moving_mean.assign(np.random.rand(*layer.moving_mean.shape))
      layer.moving_variance.assign(1 + np.random.rand(*layer.moving_variance.shape))
  images = np.random.rand(4, 32, 32, 3).astype(np.float32)
  np.save(tmp_path / "images.npy", images)
  np.save(tmp_path / "expected.npy", np.asarray(model(images, training=False)))
  layers.with_stock_layers(model).save(tmp_path / "model.keras")
  script = (
      "import sys, numpy as np, keras\n"
      f"m = keras.saving.load_model({str(tmp_path / 'model.keras')!r})\n"
      f"got = np.asarray(m(np.load({str(tmp_path / 'images.npy')!r}), training=False))\n"
      f"want = np.load({str(tmp_path / 'expected.npy')!r})\n"
      "assert 'l2t_tf' not in sys.modules\n"
      "print(float(np.abs(got - want).max()))\n")
  result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                          text=True, timeout=300, cwd=str(tmp_path),
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode == 0, result.stderr[-2000:]
  assert float(result.stdout.split()[-1]) < 1e-5
