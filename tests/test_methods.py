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
