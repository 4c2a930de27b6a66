"""Every config field has a declared type and range, and a wrong value is one error."""
import importlib

import pytest

import test_configs
from configs import common
from l2t_tf import config_checks, dotted
from l2t_tf.errors import UserError

FIELDS = dotted.flatten(common.get_base_config().to_dict())
WRONG_TYPE = {"int": "3", "float": "0.5", "bool": "yes", "str": 3, "ints": ("a",),
              "strs": (3,)}


def _with(name: str, value):
  config = common.get_base_config()
  *parents, leaf = name.split(".")
  node = config
  for parent in parents:
    node = node[parent]
  with config.unlocked():
    node.__dict__["_fields"][leaf] = value  # past ml_collections' own type check
  return config


def test_every_field_is_declared_and_every_default_passes():
  assert set(FIELDS) == set(config_checks.RULES)
  config_checks.check(common.get_base_config())


@pytest.mark.parametrize("name", test_configs.CONFIGS)
def test_every_shipped_config_passes(name):
  config_checks.check(importlib.import_module(f"configs.{name}").get_config())


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_a_wrong_type_and_an_out_of_range_value_are_refused(name):
  rule = config_checks.RULES[name]
  if rule.kind in WRONG_TYPE:
    with pytest.raises(UserError, match=f"config field {name}="):
      config_checks.check(_with(name, WRONG_TYPE[rule.kind]))
  bad = rule.example_out_of_range()
  if bad is not None:
    refused = (f"unknown {name} 'not-a-choice'" if rule.kind == "str"
               else f"{name} must be .*, got")
    with pytest.raises(UserError, match=refused):
      config_checks.check(_with(name, bad))


@pytest.mark.parametrize("name, value, message", [
    ("seed", 2**32, "seed must be in \\[0, 4294967295\\]"),
    ("data.image_size", 1_000_000, "image_size must be in \\[1, 4096\\]"),
    ("l2tl.alpha_max", -1.0, "alpha_max must be in \\(0, 1\\]"),
    ("l2tl.baseline_decay", 5.0, "baseline_decay must be in \\[0, 1\\]"),
    ("l2tl.entropy_weight", -3.0, "entropy_weight must be >= 0"),
    ("train.momentum", 1.0, "momentum must be in \\[0, 1\\)"),
    ("transfer.meta_learning_rate", 0.0, "meta_learning_rate must be positive"),
    ("train.learning_rate", float("nan"), "learning_rate=nan is not a finite"),
    ("deterministic", 1, "must be True or False"),
])
def test_the_probe_s_values_are_refused_by_name(name, value, message):
  with pytest.raises(UserError, match=message):
    config_checks.check(_with(name, value))
