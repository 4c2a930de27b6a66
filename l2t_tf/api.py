"""The Python API: learned transfer from Keras models and tf.data, no config needed.

    import keras, l2t_tf.api as l2t
    trainer = l2t.learned_transfer(my_target, ["source.keras"],
                                   target_layers=["block1_out", "block2_out"])
    trainer.compile(keras.optimizers.SGD(0.1, momentum=0.9), keras.optimizers.Adam(1e-4))
    trainer.fit(train_ds, validation_data=val_ds, epochs=30)   # (images, labels) batches
    l2t.export_saved_model(trainer.target, "export", class_names,
                           image_size=32, channels=3)

`main.py` builds its L2T-ww, L2T-w and FM runs through `learned_transfer` (via
`methods.build_transfer`, which reads the config); README "Python API".
"""
from typing import Sequence
import types

import keras
import numpy as np
import tensorflow as tf

from l2t_tf import export as export_lib
from l2t_tf import storage
from l2t_tf.data import preprocess
from l2t_tf.errors import UserError
from l2t_tf.models import backbones, layers
from l2t_tf.trainers.l2t_ww import META_OBJECTIVES, LearnedTransfer
from l2t_tf.transfer import pairs as pairs_lib
from l2t_tf.transfer.meta_networks import (KINDS, META_INPUTS, WHERE_ACTIVATIONS,
                                           WHERE_INITS, MetaNetworks)

# The learned-weight methods: name -> (learn what, learn where).
METHODS = {
    "fm": (False, False),
    "l2t_w": (True, False),
    "l2t_ww": (True, True),
}

ModelOrPath = keras.Model | str


def load_model(model: ModelOrPath, role: str = "model",
               missing_fix: str = "pass a keras.Model or the path of a .keras "
               "file (model.save('x.keras'))") -> keras.Model:
  """`model` itself, or the Keras model saved at that path (`.keras`);
  `missing_fix`: what to do when the file does not exist."""
  if isinstance(model, keras.Model):
    return model
  path = str(model)
  if not storage.exists(path):
    raise UserError(f"{role} {path} does not exist", missing_fix)
  try:
    return keras.saving.load_model(path, compile=False)
  except Exception as e:  # truncated zip, wrong format, unknown layer ...
    raise UserError(f"cannot read {role} {path} ({type(e).__name__}: "
                    f"{str(e).splitlines()[0][:120] if str(e) else ''})",
                    "pass a .keras file written by model.save (custom layers "
                    "registered before loading)") from None


def feature_points(model: keras.Model, layer_names: Sequence[str] | None,
                   network: int) -> list[pairs_lib.Point]:
  """The matching points of one network: the named layers' outputs, or its
  layers named `feature_*` (this project's backbones) when none are named."""
  if layer_names is not None and not layer_names:
    raise UserError(f"no feature layers named for {model.name}",
                    "name the layers whose outputs to match (model.summary() "
                    "lists them), or pass None for its feature_* layers")
  names = list(layer_names) if layer_names else None
  return pairs_lib.points(backbones.feature_shapes(model, names), network)


def learned_transfer(target: ModelOrPath,
                     sources: ModelOrPath | Sequence[ModelOrPath], *,
                     target_layers: Sequence[str] | None = None,
                     source_layers: Sequence[Sequence[str] | None] | None = None,
                     method: str = "l2t_ww", matching: str = "all_to_all",
                     pairs: Sequence = (), beta: float = 0.5, inner_steps: int = 2,
                     scheme: str = "three_stage", meta: str = "networks",
                     where_init: str = "reference",
                     where_activation: str = "relu6", meta_inputs: str = "pooled",
                     meta_objective: str = "lookahead", meta_set=None,
                     meta_every: int = 1, meta_start: int = 0,
                     first_order: bool = False, freeze_meta: bool = False,
                     placebo: bool = False, lookahead_lr: float = 0.0,
                     init: str = "reference") -> LearnedTransfer:
  """A trainer that fits `target` with knowledge from frozen `sources`.

  target: the network to train and ship (a functional keras.Model or a
    `.keras` path) whose first output is the logits; `target_layers` name the
    layers whose outputs are matched (default: its `feature_*` layers).
  sources: one or more pretrained networks (any architecture or task that
    takes the target's inputs); `source_layers`: per source, its layer names.
  method: 'l2t_ww' (learn what and where), 'l2t_w' (what), 'fm' (fixed).
  matching: 'all_to_all', 'one_to_one' or 'single'; `pairs` overrides it
    with pair labels 'm_n' (from 1; 'sK.m_n' for source K) or (source layer,
    target layer) names.
  meta_objective: 'lookahead' (the paper's), 'heldout_lookahead' or
    'alignment'; the last two learn on `meta_set`, (images, labels) arrays or
    a tf.data.Dataset of such batches, held out from training.
  The rest are LearnedTransfer's arguments (see its docstring). Returns a
  keras.Model: `compile(optimizer, meta_optimizer)`, then `fit`; the trained
  network is `.target`.
  """
  if method not in METHODS:
    raise UserError(f"unknown learned-transfer method '{method}'",
                    f"use one of {list(METHODS)}")
  for name, value, allowed in (("meta", meta, KINDS),
                               ("where_init", where_init, WHERE_INITS),
                               ("where_activation", where_activation,
                                WHERE_ACTIVATIONS),
                               ("meta_inputs", meta_inputs, META_INPUTS),
                               ("meta_objective", meta_objective, META_OBJECTIVES)):
    if value not in allowed:
      raise UserError(f"unknown {name} '{value}'", f"use one of {list(allowed)}")
  target = load_model(target, "target")
  if isinstance(sources, (keras.Model, str)):
    sources = [sources]
  sources = [load_model(s, "source") for s in sources]
  if not sources:
    raise UserError("no source networks given", "pass at least one keras.Model "
                    "or .keras path")
  source_layers = list(source_layers) if source_layers else [None] * len(sources)
  if len(source_layers) != len(sources):
    raise UserError(f"source_layers names layers of {len(source_layers)} sources "
                    f"for {len(sources)} sources", "give one list (or None) per source")
  for source in sources:
    if tuple(source.input_shape[1:]) != tuple(target.input_shape[1:]):
      raise UserError(f"source {source.name} takes inputs {source.input_shape[1:]} "
                      f"but the target takes {target.input_shape[1:]}",
                      "give both the same input size and channels")
  source_points = [p for k, (s, names) in enumerate(zip(sources, source_layers))
                   for p in feature_points(s, names, k)]
  candidates = pairs_lib.build_pairs(matching, source_points,
                                     feature_points(target, target_layers, -1),
                                     tuple(pairs))
  if (where_activation == "share" and METHODS[method][1] and meta == "networks"
      and len(candidates) < 2):
    raise UserError("where_activation 'share' divides a fixed strength among the "
                    "pairs, and there is only one pair, so its lambda stays 1",
                    "match more pairs (matching='all_to_all'), or use "
                    "where_activation='relu6'")
  if freeze_meta and meta_set is None:
    meta_objective = "lookahead"  # no meta step: the estimator is never called
  meta_set = (None if meta_objective == "lookahead"
              else _as_arrays(meta_set, meta_objective))
  learn_what, learn_where = METHODS[method]
  meta_networks = MetaNetworks([p.source.shape[-1] for p in candidates], learn_what,
                               learn_where, kind=meta, where_init=where_init,
                               where_activation=where_activation, inputs=meta_inputs,
                               name="meta_networks")
  extractors = [backbones.feature_extractor(s, names)
                for s, names in zip(sources, source_layers)]
  with_regressors_model = with_regressors(target, candidates, layers.Recipe(init))
  return LearnedTransfer(target, with_regressors_model, extractors, candidates,
                         meta_networks, beta=beta, inner_steps=inner_steps,
                         scheme=scheme, meta_every=meta_every, meta_start=meta_start,
                         first_order=first_order, freeze_meta=freeze_meta,
                         meta_objective=meta_objective,
                         meta_set=meta_set,
                         placebo=placebo, lookahead_lr=lookahead_lr)


def with_regressors(target: keras.Model, pairs,
                    recipe: layers.Recipe = layers.Recipe()) -> keras.Model:
  """x -> [logits, r(T^n(x)) per pair]: the target plus 1x1-conv regressors."""
  outputs = [target.outputs[0]]
  for i, pair in enumerate(pairs):
    feature = target.get_layer(pair.target.name).output
    regressor = recipe.regressor(pair.source.shape[-1], pair.target.shape[-1],
                                 name=f"regressor_{i}_{pair.label}")
    outputs.append(regressor(feature))
  return keras.Model(target.input, outputs, name="target_with_regressors")


def _as_arrays(meta_set, objective: str) -> tuple:
  """(images, labels) from arrays or a tf.data.Dataset of batches."""
  if meta_set is None:
    raise UserError(f"meta_objective={objective} needs a held-out meta_set",
                    "pass meta_set=(images, labels) or a tf.data.Dataset of "
                    "batches that training does not see")
  if isinstance(meta_set, tf.data.Dataset):
    batches = list(meta_set.as_numpy_iterator())
    if not batches:
      raise UserError("meta_set is an empty dataset", "pass held-out images")
    return tuple(np.concatenate(part) for part in zip(*batches))
  images, labels = meta_set
  return np.asarray(images), np.asarray(labels)


def export_saved_model(target: keras.Model, base: str, class_names: Sequence[str],
                       *, image_size: int, channels: int, preprocessing: str = "cifar",
                       model_name: str = "target", version: int = 0) -> str:
  """Writes `target` as a TF Serving SavedModel `<base>/<model_name>/<version>/`
  (the next free version when 0) and returns its path.

  Its signatures take uint8 pixels or encoded image bytes and apply
  `preprocessing` (one of data.preprocess.MODES: what the training data got)
  in the graph, then return probabilities and the top class names.
  """
  if preprocessing not in preprocess.MODES:
    raise UserError(f"unknown preprocessing '{preprocessing}'",
                    f"use one of {list(preprocess.MODES)}")
  data = types.SimpleNamespace(image_size=image_size, channels=channels,
                               preprocessing=preprocessing)
  return export_lib.export_target(target, list(class_names), data, base, model_name,
                                  version)
