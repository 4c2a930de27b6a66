"""methods: the registry, builders and the checks before anything trains."""
import json

import keras
import pytest

from configs import common, quickstart
from l2t_tf import checkpoints, methods, reports, train
from l2t_tf import workdir as workdir_lib
from l2t_tf.errors import UserError
from l2t_tf.models import backbones


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


class _ToyReports(reports.Reports):
  """A new method's reports: one file at the end, one entry in results.json."""

  def write_outputs(self, model, context):
    workdir_lib.write_json(context.workdir, "toy.json", {"layers": len(model.layers)})
    return {"toy": True}


def _build_toy(request: methods.Request):
  """scratch trained by Adam: a method Keras's own train_step trains."""
  target = backbones.build_backbone(request.config.model, request.num_classes,
                                    request.input_shape)
  target.compile(optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"],
                 loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  return target, target


def test_a_new_method_is_a_builder_and_one_registry_line(tmp_path, monkeypatch):
  """BUILD.md's "Adding a method": nothing else changes, and train.run,
  results.json and the config checks take it."""
  # The one line, as it would stand in methods.REGISTRY.
  monkeypatch.setitem(methods.REGISTRY, "toy", methods.Method(
      _build_toy, _ToyReports(), reads=()))
  config = common.with_overrides(quickstart.get_config(), {
      **quickstart.SMOKE, "method": "toy", "export.enabled": False})
  results = train.run(config, str(tmp_path / "toy"))
  assert results["method"] == "toy" and results["toy"] is True
  assert json.loads((tmp_path / "toy" / "toy.json").read_text())["layers"] > 3
  with pytest.raises(UserError, match="unknown method 'toy2'.*'toy'"):
    methods.check_config(common.with_overrides(config, {"method": "toy2"}))

