"""methods.build_model refuses bad transfer options before anything trains."""
import pytest

from configs import quickstart
from l2t_tf import methods
from l2t_tf.errors import UserError


@pytest.mark.parametrize("field, value, message", [
    ("transfer.where_init", "zeros", "unknown transfer.where_init"),
    ("transfer.where_activation", "relu", "unknown transfer.where_activation"),
    ("model.init", "glorot", "unknown model.init"),
    ("train.momentum_rule", "nesterov", "unknown train.momentum_rule"),
    ("train.schedule_unit", "batch", "unknown train.schedule_unit"),
])
def test_bad_recipe_and_meta_options_are_one_line_errors(field, value, message):
  config = quickstart.get_config()
  config.method = "l2t_ww"
  section, name = field.split(".")
  config[section][name] = value
  config.model.width = 0.0625
  with pytest.raises(UserError, match=message):
    methods.build_model(config, 5, (32, 32, 3), steps_per_epoch=2,
                        jit_compile=False)


def test_frozen_meta_networks_build_and_do_not_learn():
  config = quickstart.get_config()
  config.method = "l2t_ww"
  config.model.width = 0.0625
  config.transfer.freeze_meta = True
  model, _ = methods.build_model(config, 5, (32, 32, 3), steps_per_epoch=2,
                                 jit_compile=False)
  assert model.meta_networks.trainable_variables and not model.learns_meta


def test_decoy_source_is_random_with_calibrated_batchnorm(tmp_path):
  import keras  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from l2t_tf.models import backbones  # pylint: disable=g-import-not-at-top
  real = backbones.resnet_cifar(20, 3, input_shape=(8, 8, 3), width=0.25)
  path = str(tmp_path / "real.keras")
  real.save(path)
  images = np.random.RandomState(0).normal(1.0, 2.0, (16, 8, 8, 3)).astype(np.float32)
  decoy = methods.load_source(f"{methods.DECOY}{path}", images)
  assert backbones.feature_points(decoy) == backbones.feature_points(real)
  assert not np.allclose(decoy.get_layer("stem_conv").kernel.numpy(),
                         real.get_layer("stem_conv").kernel.numpy())
  # The stem's BatchNorm holds the statistics of the calibration batch exactly.
  stem = keras.Model(decoy.inputs, decoy.get_layer("stem_conv").output)(images)
  stem = np.asarray(stem).reshape(-1, stem.shape[-1])
  bn = decoy.get_layer("stem_bn")
  np.testing.assert_allclose(bn.moving_mean.numpy(), stem.mean(0), rtol=1e-4,
                             atol=1e-5)
  np.testing.assert_allclose(bn.moving_variance.numpy(), stem.var(0), rtol=1e-3)
  assert bn.momentum == 0.9  # restored after the calibration
