"""methods.build_model refuses bad transfer options before anything trains."""

from configs import quickstart
from l2t_tf import checkpoints, methods


def test_frozen_meta_networks_build_and_do_not_learn():
  config = quickstart.get_config()
  config.method = "l2t_ww"
  config.model.width = 0.0625
  config.transfer.freeze_meta = True
  model, _ = methods.build_model(config, 5, (32, 32, 3), steps_per_epoch=2,
                                 jit_compile=False)
  assert model.meta_networks.trainable_variables and not model.learns_meta


def test_a_model_built_twice_in_one_process_has_the_same_variable_paths():
  """Checkpoints restore by path: the second build (a comparison's next method,
  a resumed run) must not be named `dense_1` where the first was `dense`."""
  config = quickstart.get_config()
  config.update_from_flattened_dict(quickstart.SMOKE)
  config.method = "l2t_ww"
  paths = []
  for _ in range(2):
    model, _ = methods.build_model(config, 2, (32, 32, 3), 1, False)
    paths.append([v.path for v in checkpoints.training_variables(model)])
  assert paths[0] == paths[1]
  assert len(set(checkpoints.unique_names(paths[0]))) == len(paths[0])
