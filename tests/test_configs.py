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


@pytest.mark.parametrize("dataset", ["stl10", "cifar100", "cub200", "mit67",
                                     "stanford40", "stanford_dogs"])
def test_paper_tables_take_each_dataset(dataset):
  from configs import common, paper_table1  # pylint: disable=g-import-not-at-top
  config = paper_table1.get_config(dataset)
  assert config.data == common.paper_dataset(dataset).data
  assert len(config.grid.variants) == 9
  # The official code's cosine: CosineAnnealingLR stepped once an epoch.
  assert config.train.schedule_unit == "epoch"


def test_unknown_paper_dataset_names_the_choices():
  from configs import paper_table3  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match="stanford40"):
    paper_table3.get_config("cub")


def test_32x32_experiments_use_the_authors_source():
  from configs import paper_figure5, stl10  # pylint: disable=g-import-not-at-top
  import l2t_tf  # pylint: disable=g-import-not-at-top
  config = stl10.get_config()
  assert config.transfer.source_paths == (
      "assets:source_resnet32_tinyimagenet.keras",)
  assert os.path.isfile(l2t_tf.resolve_asset(config.transfer.source_paths[0]))
  figure = paper_figure5.get_config()
  assert figure.data.name == "cifar10"
  assert figure.grid.column_values == (50, 100, 250, 500, 1000)
  assert figure.transfer.source_paths == config.transfer.source_paths


def test_224_experiments_pair_the_four_stage_outputs():
  """The official default: 4 x 4 stage outputs, no stem (16 pairs)."""
  from configs import cub200  # pylint: disable=g-import-not-at-top
  from l2t_tf.models import backbones  # pylint: disable=g-import-not-at-top
  from l2t_tf.transfer import pairs  # pylint: disable=g-import-not-at-top
  config = cub200.get_config()
  config.model.width = 0.125
  target = backbones.build_backbone(config.model, 200, (224, 224, 3))
  config.model.name = "resnet34"
  source = backbones.build_backbone(config.model, 1000, (224, 224, 3))
  built = pairs.build_pairs("all_to_all",
                            pairs.points(backbones.feature_shapes(source), 0),
                            pairs.points(backbones.feature_shapes(target), 0))
  assert len(built) == 16


@pytest.mark.parametrize("name", CONFIGS)
def test_every_config_has_a_smoke_setting_that_applies(name):
  from configs import common  # pylint: disable=g-import-not-at-top
  module = importlib.import_module(f"configs.{name}")
  config = common.with_overrides(module.get_config(), module.SMOKE)
  assert config.train.epochs <= 2 and config.model.width <= 0.0625
  if config.grid.variants:
    assert tuple(config.grid.seeds) == (0,)


def test_overrides_must_name_existing_fields():
  from configs import common, quickstart  # pylint: disable=g-import-not-at-top
  with pytest.raises(KeyError, match="train.epochz"):
    common.with_overrides(quickstart.get_config(), {"train.epochz": 1})


@pytest.mark.slow
@pytest.mark.parametrize("name", ["l2tl_known_answer", "known_answer_what"])
def test_offline_configs_run_their_smoke_setting(name, tmp_path):
  """What needs no download runs end to end at its smoke setting."""
  from configs import common  # pylint: disable=g-import-not-at-top
  from l2t_tf import train  # pylint: disable=g-import-not-at-top
  module = importlib.import_module(f"configs.{name}")
  config = common.with_overrides(module.get_config(), module.SMOKE)
  methods = [config.method] if config.method else list(config.compare)
  for method in methods:
    config.method = method
    result = train.run(config, str(tmp_path / method))
    assert 0 <= result["test_accuracy"] <= 1


def test_stanford40_uses_the_authors_corrected_meta_learning_rate():
  from configs import paper_table1, stanford40  # pylint: disable=g-import-not-at-top
  assert stanford40.get_config().transfer.meta_learning_rate == 1e-3
  assert paper_table1.get_config("stanford40").transfer.meta_learning_rate == 1e-3
  assert paper_table1.get_config("cub200").transfer.meta_learning_rate == 1e-4
