"""Builds the compiled Keras model for `config.method` from a config and the data."""
import dataclasses
from typing import Any, Callable

import keras
import numpy as np

import l2t_tf
from l2t_tf import api, optim
from l2t_tf.errors import UserError
from l2t_tf.models import backbones, known_answer, naming
from l2t_tf.reports import Reports
from l2t_tf.reports.l2tl import PolicyReports
from l2t_tf.reports.learned_transfer import LearnedTransferReports
from l2t_tf.trainers.classic import HandCrafted
from l2t_tf.trainers.l2t_ww import LearnedTransfer
from l2t_tf.trainers.l2tl import JointTransfer
from l2t_tf.transfer import policy as policy_lib
from l2t_tf.transfer import pairs as pairs_lib

METHODS = api.METHODS  # the learned-weight methods: (learn what, learn where)
# Hand-crafted baselines: method -> the config fields of the losses it uses.
HANDCRAFTED = {
    "lwf": ("lwf_weight",),
    "at": ("at_weight",),
    "lwf_at": ("lwf_weight", "at_weight"),
    "kd": ("kd_weight",),
    "jm": ("at_weight", "jm_weight"),
}


# Known-answer sources (models/known_answer.py): prefix -> builder.
KNOWN_ANSWER = {known_answer.DECOY: known_answer.decoy,
                known_answer.NOISY: known_answer.noisy,
                known_answer.HARMFUL: known_answer.harmful}


def load_source(path: str, calibration_images=None, input_shape=None) -> keras.Model:
  """A pretrained source network saved as a `.keras` file by this project
  (trained by it, or converted from PyTorch by `l2t_tf.convert`).

  `decoy:PATH` and `noisy:PATH` are known-answer sources built from PATH
  (see models/known_answer.py); `calibration_images` (target images) give
  their random parts a trained network's scale. `input_shape`: what the
  target data gives, which the source must take.
  """
  source = _load_source(path, calibration_images)
  if input_shape is not None and tuple(source.input_shape[1:]) != tuple(input_shape):
    raise UserError(f"source {path} takes inputs {tuple(source.input_shape[1:])} "
                    f"but the data gives {tuple(input_shape)}",
                    "set data.image_size/data.channels (and l2tl.source_data's) "
                    "to the source's input")
  return source


def _load_source(path: str, calibration_images=None) -> keras.Model:
  for prefix, build in KNOWN_ANSWER.items():
    if path.startswith(prefix):
      return build(_load_source(path[len(prefix):]), calibration_images)
  path = l2t_tf.resolve_asset(path)
  if not path:
    raise UserError("this method needs a source network but transfer.source_paths "
                    "is empty", "pass --config.transfer.source_paths=\"('SRC.keras',)\"")
  return api.load_model(
      path, "source checkpoint",
      missing_fix="convert a PyTorch one (python -m l2t_tf.convert --from=CKPT "
      f"--out={path}) or train one (its WORKDIR/model.keras), and point "
      "transfer.source_paths at it")


def check_transfer_config(config) -> None:
  """The fm / l2t_w / l2t_ww fields that only make sense together (each field
  alone: config_checks), checked without data; `train.check_run` calls it for
  every planned run before the first trains."""
  transfer = config.transfer
  objective = transfer.get("meta_objective", "lookahead")
  learns = not transfer.get("freeze_meta", False)
  if objective != "lookahead" and learns:
    if config.data.get("meta_into_train", False):
      raise UserError(f"transfer.meta_objective={objective} learns phi on the meta "
                      "set, but data.meta_into_train trains on it",
                      "set data.meta_into_train=False (it is the control for a "
                      "frozen phi: transfer.freeze_meta=True)")
    if config.data.get("meta_per_class", 0) < 1:
      raise UserError(f"transfer.meta_objective={objective} needs a held-out meta "
                      "set, but data.meta_per_class is 0",
                      "pass e.g. --config.data.meta_per_class=10 (taken from "
                      "data.val_per_class's images)")


def build_transfer(config, target: keras.Model, calibration_images=None,
                   steps_per_epoch: int = 1, meta_set=None) -> LearnedTransfer:
  """The LearnedTransfer trainer for fm / l2t_w / l2t_ww from the config, by
  `api.learned_transfer` (`calibration_images`: target images for
  known-answer sources; `meta_set`: (images, labels) held out for the
  meta-objective)."""
  transfer = config.transfer
  paths = list(transfer.source_paths) or [""]
  sources = [load_source(path, calibration_images, target.input_shape[1:])
             for path in paths]
  return api.learned_transfer(
      target, sources, method=config.method, matching=transfer.matching,
      pairs=tuple(transfer.pairs), beta=transfer.beta,
      inner_steps=transfer.inner_steps, scheme=transfer.scheme, meta=transfer.meta,
      where_init=transfer.where_init, where_activation=transfer.where_activation,
      meta_inputs=transfer.get("meta_inputs", "pooled"),
      meta_objective=transfer.get("meta_objective", "lookahead"), meta_set=meta_set,
      meta_every=transfer.meta_every,
      meta_start=round(transfer.get("meta_start_epoch", 0) * steps_per_epoch),
      first_order=transfer.first_order, freeze_meta=transfer.freeze_meta,
      placebo=transfer.get("placebo", False),
      lookahead_lr=transfer.get("lookahead_lr", 0.0),
      init=config.model.get("init", "reference"))


def build_finetune(config, num_classes: int, input_shape) -> keras.Model:
  """The source network (its architecture and weights) with a new classifier."""
  paths = list(config.transfer.source_paths) or [""]
  return _new_classifier(load_source(paths[0], input_shape=input_shape), num_classes)


def _new_classifier(source: keras.Model, num_classes: int,
                    name: str = "logits") -> keras.Model:
  features = source.layers[-1].input  # what the source's classifier sees
  logits = keras.layers.Dense(num_classes, name=name)(features)
  return keras.Model(source.input, logits, name=f"finetuned_{source.name}")


def build_handcrafted(config, target: keras.Model) -> HandCrafted:
  """The HandCrafted trainer for lwf / at / lwf_at / kd / jm."""
  transfer = config.transfer
  paths = list(transfer.source_paths) or [""]
  if len(paths) > 1:
    raise UserError(f"{config.method} uses one source, got {len(paths)}",
                    "pass one path in transfer.source_paths")
  source = load_source(paths[0], input_shape=target.input_shape[1:])
  weights = {field[:-len("_weight")]: transfer[field]
             for field in HANDCRAFTED[config.method]}
  if "kd" in weights and source.output_shape[-1] != target.output_shape[-1]:
    raise UserError(f"kd needs a source of the same task, but the source has "
                    f"{source.output_shape[-1]} classes and the target "
                    f"{target.output_shape[-1]}", "use lwf for another task")
  pairs = []
  if "at" in weights:  # attention maps are compared position by position
    pairs = pairs_lib.build_pairs(
        "one_to_one", api.feature_points(source, None, 0),
        api.feature_points(target, None, -1),
        tuple(transfer.pairs))
  return HandCrafted(target, backbones.feature_extractor(source), pairs, weights,
                     temperature=transfer.temperature)


def l2tl_source_batch_size(config) -> int:
  """B_S: `l2tl.source_batch_size`, or the target's batch size when 0."""
  return config.l2tl.source_batch_size or config.train.batch_size


def build_l2tl(config, num_classes: int, input_shape,
               source_classes) -> JointTransfer:
  """The JointTransfer trainer: a target g + h_T plus a source head h_S on g.

  With `transfer.source_paths`, g and h_S start from that pretrained source
  network (its classifier is h_S when it has the source data's classes); a
  `keras:<Application>` model with pretrained weights gives its own
  classifier as h_S the same way.
  """
  l2tl = config.l2tl
  class_names = tuple(source_classes)
  fixed_weights = None
  if l2tl.class_weights == "fixed":
    fixed_weights = policy_lib.fixed_class_weights(class_names, l2tl.fixed_classes)
    if not any(fixed_weights):
      raise UserError(f"l2tl.class_weights='fixed' keeps no source class: "
                      f"l2tl.fixed_classes={tuple(l2tl.fixed_classes)} names none of "
                      f"{list(class_names[:5])}{' ...' if len(class_names) > 5 else ''}",
                      "name source classes, or prefixes ending in ':' such as "
                      "--config.l2tl.fixed_classes='(\"digit:\",)'")
  head = None
  if config.transfer.source_paths:
    path = config.transfer.source_paths[0]
    source = load_source(path, input_shape=input_shape)
    # Its own name: the source's classifier may join the model as h_S.
    target = _new_classifier(source, num_classes, name="target_logits")
    if source.output_shape[-1] == len(class_names):
      head = source.layers[-1]
  else:
    target = backbones.build_backbone(config.model, num_classes, input_shape)
    application = config.model.name.removeprefix("keras:")
    if application != config.model.name and config.model.get("weights"):
      # A pretrained application's own classifier is h_S when the source data
      # is what it was trained on (ImageNet's 1,000 classes, in TFDS's order).
      classifier = backbones.pretrained_classifier(application, config.model.weights)
      if classifier.units == len(class_names):
        head = classifier
  features = target.layers[-1].input  # what the target's classifier sees
  source_logits = (head or keras.layers.Dense(len(class_names), name="source_logits"))(
      features)
  joint = keras.Model(target.input, [target.output, source_logits], name="joint")
  class_policy = policy_lib.ClassWeightPolicy(
      len(class_names), l2tl.actions, l2tl.alpha_actions, l2tl.alpha_max,
      name="policy")
  return JointTransfer(
      target, joint, class_policy, mode=l2tl.class_weights,
      source_batch_size=l2tl_source_batch_size(config),
      reward=l2tl.reward, baseline_decay=l2tl.baseline_decay,
      entropy_weight=l2tl.entropy_weight, pretrain_steps=l2tl.pretrain_steps,
      seed=config.seed, batch_norm=l2tl.batch_norm, estimator=l2tl.estimator,
      fixed_weights=fixed_weights, lookahead_lr=config.train.learning_rate,
      placebo=l2tl.placebo)


@dataclasses.dataclass(frozen=True)
class Request:
  """What a method's builder gets: the config and what the data decided."""
  config: Any
  num_classes: int
  input_shape: tuple
  steps_per_epoch: int
  jit_compile: bool = False
  source_classes: tuple = ()     # l2tl: the source dataset's class names
  calibration_images: Any = None  # target images, for known-answer sources
  meta_set: Any = None           # held out for L2T-ww's meta step (api._as_arrays)

  def optimizer(self) -> optim.SGDL2:
    return optim.target_optimizer(self.config.train, self.steps_per_epoch)


def _build_plain(request: Request) -> tuple[keras.Model, keras.Model]:
  """scratch and finetune: the target alone with Keras's own train_step."""
  config = request.config
  target = (build_finetune(config, request.num_classes, request.input_shape)
            if config.method == "finetune"
            else backbones.build_backbone(config.model, request.num_classes,
                                          request.input_shape))
  optimizer = request.optimizer()
  target.compile(optimizer=optimizer, jit_compile=request.jit_compile,
                 metrics=["accuracy"],
                 loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  # Build what Keras builds lazily (slots, metric sums) so a checkpoint can be
  # restored into it before the first step.
  optimizer.build(target.trainable_variables)
  zeros = np.zeros((1, *request.input_shape), keras.config.floatx())
  target.test_on_batch(zeros, np.zeros((1,), np.int64))
  return target, target


def _build_handcrafted(request: Request) -> tuple[keras.Model, keras.Model]:
  target = backbones.build_backbone(request.config.model, request.num_classes,
                                    request.input_shape)
  model = build_handcrafted(request.config, target)
  optimizer = request.optimizer()
  model.compile(optimizer=optimizer, jit_compile=request.jit_compile)
  optimizer.build(model.with_heads.trainable_variables)
  return model, target


def _build_learned(request: Request) -> tuple[keras.Model, keras.Model]:
  config = request.config
  target = backbones.build_backbone(config.model, request.num_classes,
                                    request.input_shape)
  model = build_transfer(config, target, request.calibration_images,
                         request.steps_per_epoch, request.meta_set)
  model.compile(request.optimizer(), optim.meta_optimizer(config.transfer),
                jit_compile=request.jit_compile)
  return model, target


def _build_l2tl(request: Request) -> tuple[keras.Model, keras.Model]:
  config = request.config
  model = build_l2tl(config, request.num_classes, request.input_shape,
                     request.source_classes)
  model.compile(request.optimizer(),
                optim.AdamL2(learning_rate=config.l2tl.policy_learning_rate),
                jit_compile=request.jit_compile)
  return model, model.target


OPTIONAL_SECTIONS = ("transfer", "l2tl")  # config sections not every method reads


@dataclasses.dataclass(frozen=True)
class Method:
  """A registry entry: everything the rest of l2t_tf needs to know of a method.

  build: Request -> (trainer to `fit`, target to save and export), compiled.
  reports: its callbacks, end-of-run files and figures (l2t_tf/reports/).
  check: its fields that only make sense together, checked before data loads.
  reads: the OPTIONAL_SECTIONS it reads (a change elsewhere cannot change its run).
  source_dataset: trains on `l2tl.source_data` beside the target data.
  matches_features: matches feature maps, so it can use known-answer sources.
  trace_note: said while the first training step traces (a slow one).
  """
  build: Callable[[Request], tuple[keras.Model, keras.Model]]
  reports: Reports = Reports()
  check: Callable[[Any], None] = lambda config: None
  reads: tuple[str, ...] = ("transfer",)
  source_dataset: bool = False
  matches_features: bool = False
  trace_note: str = ""

  def unused_sections(self) -> tuple[str, ...]:
    """Dotted prefixes of the config sections this method never reads."""
    return tuple(f"{s}." for s in OPTIONAL_SECTIONS if s not in self.reads)


_LEARNED = Method(_build_learned, LearnedTransferReports(),
                  check=check_transfer_config, matches_features=True,
                  trace_note=" (L2T-ww's nested tapes: up to a minute on a CPU)")

# Every method by name. A new method is a builder (and its trainer, if Keras's
# own train_step will not do; its reports, if it writes any) plus one line here.
REGISTRY: dict[str, Method] = {
    "scratch": Method(_build_plain, reads=()),
    "finetune": Method(_build_plain),
    **{name: _LEARNED for name in METHODS},
    **{name: Method(_build_handcrafted) for name in HANDCRAFTED},
    "l2tl": Method(_build_l2tl, PolicyReports(),
                   check=lambda config: check_l2tl_config(config.l2tl),
                   reads=("transfer", "l2tl"), source_dataset=True),
}


def get(name: str) -> Method:
  """The registry entry of method `name`; one line naming the known ones if none."""
  if name not in REGISTRY:
    raise UserError(f"unknown method '{name}'", f"use one of {sorted(REGISTRY)}")
  return REGISTRY[name]


def check_config(config) -> None:
  """What can be checked of a run's method without data or sources."""
  method = get(config.method)
  method.check(config)
  known = [p for p in config.transfer.source_paths if p.startswith(tuple(KNOWN_ANSWER))]
  if known and not method.matches_features:
    matching = sorted(n for n, m in REGISTRY.items() if m.matches_features)
    raise UserError(f"{known[0]} is a known-answer source (feature maps for "
                    f"matching, no classifier), which {config.method} cannot use",
                    f"use it with {', '.join(matching)}, or pass the plain "
                    f"source {known[0].split(':', 1)[1]}")


def check_l2tl_config(l2tl) -> None:
  """L2TL's fields that only make sense together."""
  if l2tl.placebo and l2tl.class_weights != "learned":
    raise UserError(f"l2tl.placebo flips the learned policy's signal, but "
                    f"l2tl.class_weights is '{l2tl.class_weights}'",
                    "add --config.l2tl.class_weights=learned, or drop the placebo")
  if (l2tl.class_weights == "fixed") != bool(l2tl.fixed_classes):
    raise UserError(
        f"l2tl.class_weights='{l2tl.class_weights}' with l2tl.fixed_classes="
        f"{tuple(l2tl.fixed_classes)}: the classes kept go with policy 'fixed', "
        "and only with it", "pass both, e.g. --config.l2tl.class_weights=fixed "
        "--config.l2tl.fixed_classes='(\"digit:\",)', or neither")


def build_model(config, num_classes: int, input_shape, steps_per_epoch: int,
                jit_compile: bool, source_classes=(),
                calibration_images=None,
                meta_set=None) -> tuple[keras.Model, keras.Model]:
  """(trainer to `fit`, target network to save and export), compiled.

  `source_classes`: for l2tl, the names of the source dataset's classes.
  `calibration_images`: target training images, for known-answer sources.
  `meta_set`: data.meta_per_class's held-out images, as (images, labels) or
  a dataset of such batches.
  """
  method = get(config.method)
  with naming.fresh_names():  # checkpoints restore by variable path
    return method.build(Request(
        config, num_classes, tuple(input_shape), steps_per_epoch, jit_compile,
        tuple(source_classes), calibration_images, meta_set))


def build_for_data(config, datasets, jit_compile: bool,
                   source_classes=()) -> tuple[keras.Model, keras.Model]:
  """`build_model` with what the data decides: the input shape and classes,
  target images to calibrate known-answer sources, and the held-out meta set."""
  calibration = None
  if any(p.startswith(tuple(KNOWN_ANSWER)) for p in config.transfer.source_paths):
    calibration = next(iter(datasets.train_from(0, 0, 1)))[0]
  return build_model(config, datasets.num_classes, datasets.input_shape,
                     datasets.steps_per_epoch, jit_compile,
                     source_classes=source_classes, calibration_images=calibration,
                     meta_set=datasets.meta)
