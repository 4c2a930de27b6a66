"""Every config loads, overrides apply, and the paper's settings are the defaults."""
import glob
import importlib
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(os.path.basename(p)[:-3] for p in glob.glob(f"{ROOT}/configs/*.py")
                 if not p.endswith(("__init__.py", "common.py")))


@pytest.mark.parametrize("name", CONFIGS)
def test_config_loads(name):
  config = importlib.import_module(f"configs.{name}").get_config()
  assert config.train.epochs > 0 and config.train.batch_size > 0
  assert config.method or config.compare


def test_paper_defaults():
  config = importlib.import_module("configs.stl10").get_config()
  assert (config.train.learning_rate, config.train.momentum,
          config.train.weight_decay, config.train.batch_size,
          config.train.epochs) == (0.1, 0.9, 1e-4, 128, 200)
  # The authors' code: its initialisers and PyTorch's momentum rule (issue #18).
  assert (config.model.init, config.train.momentum_rule) == ("reference", "pytorch")
  assert (config.transfer.beta, config.transfer.inner_steps,
          config.transfer.matching, config.transfer.scheme,
          config.transfer.meta_learning_rate) == (0.5, 2, "all_to_all",
                                                  "three_stage", 1e-4)
  cub = importlib.import_module("configs.cub200").get_config()
  assert (cub.model.name, cub.data.image_size, cub.train.batch_size) == (
      "resnet18", 224, 64)
