"""Every config field's type and range, declared once and checked before a run starts.

`check(config)` walks the config and refuses the first field whose value has
the wrong type, is not finite, or is out of its range, with one line naming
the field, its value and what it must be. Checks that need several fields,
data or files (a meta set large enough, a source's input shape) stay with
the code that owns them; this module holds what one field alone decides.
"""
import dataclasses
import math
from typing import Any

from l2t_tf import distribution, dotted, optim
from l2t_tf.data import preprocess, sources
from l2t_tf.errors import UserError
from l2t_tf.models import layers
from l2t_tf.trainers.l2t_ww import META_OBJECTIVES, SCHEMES
from l2t_tf.trainers.l2tl import BATCH_NORMS, ESTIMATORS, CLASS_WEIGHTS
from l2t_tf.transfer import meta_networks, pairs, policy


@dataclasses.dataclass(frozen=True)
class Rule:
  """A field's type (`kind`), and optionally its range: `low`/`high` bounds
  (`open_low`: low itself excluded) or the `choices` it may take."""
  kind: str                      # int | float | bool | str | ints | strs | any
  low: float | None = None
  high: float | None = None
  open_low: bool = False
  open_high: bool = False
  choices: tuple = ()

  def range_text(self) -> str:
    if self.choices:
      return "one of " + ", ".join(map(repr, self.choices))
    low, high = _number(self.low), _number(self.high)
    if self.low is not None and self.high is not None:
      return (f"in {'(' if self.open_low else '['}{low}, {high}"
              f"{')' if self.open_high else ']'}")
    if self.low is not None:
      return "positive" if (self.low, self.open_low) == (0, True) else f">= {low}"
    return ""

  def out_of_range(self, value) -> bool:
    if self.choices:
      return value not in self.choices
    if self.low is not None and (value < self.low or
                                 (self.open_low and value == self.low)):
      return True
    return self.high is not None and (value > self.high or
                                      (self.open_high and value == self.high))

  def example_out_of_range(self):
    """A value of the right type outside the range (for the tests)."""
    if self.choices:
      return "not-a-choice" if self.kind == "str" else -7
    if self.low is not None:
      return self.low - (0 if self.open_low else 1)
    return None if self.high is None else self.high + 1


def _number(x) -> str:
  return "" if x is None else str(int(x)) if float(x).is_integer() else f"{x:g}"


def _int(low=None, high=None) -> Rule:
  return Rule("int", low, high)


def _float(low=None, high=None, open_low=False, open_high=False) -> Rule:
  return Rule("float", low, high, open_low, open_high)


def _one_of(choices) -> Rule:
  return Rule("str", choices=tuple(choices))


_BOOL, _STR, _INTS, _STRS, _ANY = (Rule("bool"), Rule("str"), Rule("ints"),
                                   Rule("strs"), Rule("any"))
_POSITIVE = _float(0, open_low=True)

_DATA = {
    "cache": _BOOL, "channels": Rule("int", choices=(1, 3)), "classes": _INTS,
    "data_dir": _STR, "download": _BOOL, "image_dir": _STR,
    "image_size": _int(1, 4096), "images_per_class": _int(0),
    "loader": _one_of(sources.LOADERS), "meta_into_train": _BOOL,
    "meta_per_class": _int(0), "name": _STR, "path": _STR,
    "preprocessing": _one_of(preprocess.MODES), "scramble_train_labels": _BOOL,
    "skip_first_per_class": _int(0),
    "split_lists.test": _STR, "split_lists.train": _STR,
    "split_seed": _int(0, 2**32 - 1), "test_split": _STR, "train_split": _STR,
    "val_per_class": _int(0),
}

RULES: dict[str, Rule] = {
    "method": _STR, "compare": _STRS, "seed": _int(0, 2**32 - 1),
    "deterministic": _BOOL,
    **{f"data.{k}": v for k, v in _DATA.items()},
    "checkpoint.every_steps": _int(0), "checkpoint.keep": _int(1),
    "export.base_dir": _STR, "export.enabled": _BOOL, "export.model_name": _STR,
    "export.version": _int(0),
    "grid.column": _STR, "grid.column_values": _ANY, "grid.seeds": _INTS,
    "grid.variants": _ANY,
    "model.feature_layers": _STRS, "model.init": _one_of(layers.INITS),
    "model.name": _STR,  # a backbone or keras:APPLICATION (backbones.py)
    "model.stem_point": _BOOL,
    "model.unbiased_moving_variance": _BOOL, "model.weights": _STR,
    "model.width": _POSITIVE,
    "train.batch_size": _int(1), "train.epochs": _int(1),
    "train.jit_compile": _ANY,  # True, False or 'auto' (distribution.py)
    "train.learning_rate": _POSITIVE, "train.momentum": _float(0, 1, open_high=True),
    "train.momentum_rule": _one_of(optim.MOMENTUM_RULES),
    "train.schedule_unit": _one_of(optim.SCHEDULE_UNITS),
    "train.strategy": _one_of(distribution.STRATEGIES),
    "train.keep_weights": Rule("str", choices=("best_val", "last")),
    "train.test_every_epoch": _BOOL,
    "train.verbose": Rule("int", choices=(0, 1, 2)), "train.warmup_epochs": _float(0),
    "train.weight_decay": _float(0),
    "transfer.at_weight": _float(0), "transfer.beta": _float(0),
    "transfer.first_order": _BOOL, "transfer.freeze_meta": _BOOL,
    "transfer.inner_steps": _int(1), "transfer.jm_weight": _float(0),
    "transfer.kd_weight": _float(0), "transfer.lookahead_lr": _float(0),
    "transfer.lwf_weight": _float(0), "transfer.matching": _one_of(pairs.MATCHINGS),
    "transfer.meta": _one_of(meta_networks.KINDS),
    "transfer.meta_beta_2": _float(0, 1, open_high=True),
    "transfer.meta_every": _int(1), "transfer.meta_learning_rate": _POSITIVE,
    "transfer.meta_objective": _one_of(META_OBJECTIVES),
    "transfer.meta_start_epoch": _float(0), "transfer.meta_weight_decay": _float(0),
    "transfer.pairs": _ANY,  # ((target, source), ...): pairs.py checks them
    "transfer.placebo": _BOOL, "transfer.scheme": _one_of(SCHEMES),
    "transfer.source_paths": _STRS, "transfer.temperature": _POSITIVE,
    "transfer.where_activation": _one_of(meta_networks.WHERE_ACTIVATIONS),
    "transfer.where_init": _one_of(meta_networks.WHERE_INITS),
    "transfer.meta_inputs": _one_of(meta_networks.META_INPUTS),
    "l2tl.actions": _int(2), "l2tl.alpha_actions": _int(2),
    "l2tl.alpha_max": _float(0, 1, open_low=True), "l2tl.baseline_decay": _float(0, 1),
    "l2tl.batch_multiplier": _int(1), "l2tl.batch_norm": _one_of(BATCH_NORMS),
    "l2tl.entropy_weight": _float(0), "l2tl.estimator": _one_of(ESTIMATORS),
    "l2tl.fixed_classes": _STRS, "l2tl.placebo": _BOOL,
    "l2tl.class_weights": _one_of(CLASS_WEIGHTS),
    "l2tl.policy_batch_size": _int(0), "l2tl.policy_learning_rate": _POSITIVE,
    "l2tl.pretrain_steps": _int(0), "l2tl.reward": _one_of(policy.REWARDS),
    "l2tl.source_batch_size": _int(0), "l2tl.steps_per_epoch": _int(0),
    **{f"l2tl.source_data.{k}": v for k, v in _DATA.items()},
}


def _type_ok(rule: Rule, value: Any) -> bool:
  is_int = isinstance(value, int) and not isinstance(value, bool)
  if rule.kind == "int":
    return is_int
  if rule.kind == "float":
    return is_int or isinstance(value, float)
  if rule.kind == "bool":
    return isinstance(value, bool)
  if rule.kind == "str":
    return isinstance(value, str)
  if rule.kind in ("ints", "strs"):
    item = (lambda v: isinstance(v, int) and not isinstance(v, bool)) \
        if rule.kind == "ints" else (lambda v: isinstance(v, str))
    return isinstance(value, (tuple, list)) and all(map(item, value))
  return True


_TYPE_NAMES = {"int": "a whole number", "float": "a number", "bool": "True or False",
               "str": "a string", "ints": "a tuple of whole numbers",
               "strs": "a tuple of strings", "any": "anything"}


def check(config) -> None:
  """Raises UserError for the first field of the wrong type or out of range."""
  for name, value in dotted.flatten(config.to_dict()).items():
    rule = RULES.get(name)
    if rule is None:
      continue  # an unknown field: ml_collections refuses it at the command line
    if not _type_ok(rule, value):
      raise UserError(f"config field {name}={value!r} must be "
                      f"{_TYPE_NAMES[rule.kind]}",
                      "pass a value of the type configs/common.py gives it")
    if isinstance(value, float) and not math.isfinite(value):
      raise UserError(f"config field {name}={value} is not a finite number",
                      "pass a number (configs/common.py gives each field's default)")
    if (rule.choices or rule.low is not None or rule.high is not None) and \
        rule.out_of_range(value):
      wanted = rule.range_text()
      if rule.kind == "str":  # a name: say it is unknown, list the known ones
        raise UserError(f"unknown {name} {value!r}", f"use {wanted}")
      raise UserError(f"{name} must be {wanted}, got {value!r}",
                      f"use {wanted if rule.choices else 'a value ' + wanted} "
                      "(configs/common.py gives each field's default)")
