"""Builds the train / validation / test `tf.data` pipelines from a data config."""
import dataclasses
from typing import Callable

import numpy as np
import tensorflow as tf

from l2t_tf.data import preprocess, sources, subsets
from l2t_tf.errors import UserError

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass
class Datasets:
  """`train_from(epoch, step, epochs)` is the training stream from any position."""
  train_from: Callable[[int, int, int], tf.data.Dataset]
  val: tf.data.Dataset
  test: tf.data.Dataset
  class_names: list[str]
  input_shape: tuple[int, int, int]
  sizes: dict[str, int]
  steps_per_epoch: int
  meta: tf.data.Dataset | None = None  # data.meta_per_class's held-out images

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  @property
  def train(self) -> tf.data.Dataset:
    """One epoch (the first) of the training stream."""
    return self.train_from(0, 0, 1)


def _decode(image, encoded: bool, channels: int):
  if encoded:
    image = tf.io.decode_image(image, channels=3, expand_animations=False)
  return preprocess.to_channels(image, channels)


def _base(examples: sources.Examples, indices: np.ndarray, label_table, config,
          labels: np.ndarray | None = None):
  """(image, label) before augmentation, cached; `labels` (0..K-1, one per
  index) replace the examples' own.

  Before the cache: decode, and for 32x32 shrink to the final size, so the
  cache holds small uint8 images. 224x224 caches the encoded bytes instead.
  """
  mode, size, channels = config.preprocessing, config.image_size, config.channels
  def base(image, label):
    if mode == "cifar":
      image = preprocess.resize_uint8(_decode(image, examples.encoded, channels),
                                      size)
    return image, tf.gather(label_table, label)
  ds = examples.make(indices).map(base, num_parallel_calls=AUTOTUNE)
  if labels is not None:
    ds = tf.data.Dataset.zip(ds, tf.data.Dataset.from_tensor_slices(labels)).map(
        lambda example, label: (example[0], label))
  return ds.cache() if config.cache else ds


def _decoded(image, examples, config):
  if config.preprocessing == "cifar":
    return image
  return _decode(image, examples.encoded, config.channels)


def _eval_pipeline(examples, indices, label_table, config, batch_size: int):
  mode, size, channels = config.preprocessing, config.image_size, config.channels
  ds = _base(examples, indices, label_table, config).map(
      lambda image, label: (preprocess.eval_image(
          _decoded(image, examples, config), mode, size, channels), label),
      num_parallel_calls=AUTOTUNE)
  return ds.batch(batch_size).prefetch(AUTOTUNE)


def _train_stream(examples, indices, label_table, config, batch_size: int,
                  seed: int, labels: np.ndarray | None = None):
  """A function (epoch, step, epochs) -> the batches from there to the end.

  Epoch e's order and augmentation depend only on (seed, e) and the position in
  the epoch, never on how many times the pipeline was iterated before: a run
  resumed from a checkpoint sees exactly the batches an uninterrupted run sees.
  """
  mode, size, channels = config.preprocessing, config.image_size, config.channels
  base = _base(examples, indices, label_table, config, labels)
  count = len(indices)

  def epoch_data(epoch: int, skip: int) -> tf.data.Dataset:
    # Python-int seeds: inside a traced function a tensor seed breaks
    # op determinism's seed check, so epochs are chained in Python instead.
    epoch_seed = seed * 1_000_003 + epoch
    ds = base.shuffle(count, seed=epoch_seed, reshuffle_each_iteration=False)
    ds = ds.enumerate().skip(skip)
    ds = ds.map(lambda position, example: (preprocess.train_image(
        _decoded(example[0], examples, config),
        tf.stack([tf.constant(epoch_seed, tf.int64), position]), mode, size,
        channels), example[1]), num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size)

  def train_from(epoch: int, step: int, epochs: int) -> tf.data.Dataset:
    ds = epoch_data(epoch, step * batch_size)
    for later in range(epoch + 1, epochs):
      ds = ds.concatenate(epoch_data(later, 0))
    return ds.prefetch(AUTOTUNE)
  return train_from


def _check_data_config(config) -> None:
  """Refuses data settings that would train a broken model without an error."""
  if "source" in config:  # a config file written for l2t_tf 0.1
    raise UserError(f"data.source ('{config.source}') is now data.loader",
                    f"write config.data.loader = '{config.source}' in the config file")
  for field in ("images_per_class", "val_per_class"):
    if config[field] < 0:
      raise UserError(f"data.{field} must be >= 0, got {config[field]}",
                      f"use 0 ({'all remaining' if field == 'images_per_class' else 'none'}) "
                      "or a number of images per class")
  if config.channels not in (1, 3):
    raise UserError(f"data.channels must be 1 or 3, got {config.channels}",
                    "use 3 (RGB; grey images are repeated) or 1")
  if config.image_size < 1:
    raise UserError(f"data.image_size must be positive, got {config.image_size}",
                    "use 32 (CIFAR-style models) or 224")
  classes = list(config.classes)
  not_ids = [c for c in classes
             if isinstance(c, bool) or not isinstance(c, int) or c < 0]
  if not_ids:
    raise UserError(f"data.classes holds {not_ids[0]!r}, which is not a label id",
                    "list label ids (integers from 0; a folder's classes are "
                    "numbered in sorted order), e.g. --config.data.classes=(0,1,2)")
  if len(set(classes)) != len(classes):
    raise UserError(f"data.classes {tuple(classes)} lists a class twice",
                    "list each original label once")
  if len(classes) == 1:
    raise UserError(f"data.classes {tuple(classes)} has one class: nothing to classify",
                    "list at least two classes (or none for all)")


def build_datasets(config, batch_size: int, seed: int) -> Datasets:
  """Train (augmented, shuffled), validation (held out from train) and test sets.

  Labels are remapped to 0..K-1 in the order of `config.classes`.
  """
  if batch_size <= 0:
    raise UserError(f"train.batch_size must be positive, got {batch_size}",
                    "use e.g. --config.train.batch_size=64")
  _check_data_config(config)
  if config.preprocessing not in preprocess.MODES:
    raise UserError(f"unknown data.preprocessing '{config.preprocessing}'",
                    f"use one of {list(preprocess.MODES)}")
  train_examples = sources.load_split(config, config.train_split)
  test_examples = sources.load_split(config, config.test_split)

  classes = list(config.classes) or sorted(np.unique(train_examples.labels).tolist())
  if len(classes) < 2:
    raise UserError(f"the training data has {len(classes)} class: nothing to classify",
                    "give data.path a folder with one sub-folder per class (two or more)")
  untested = sorted(set(classes) - set(np.unique(test_examples.labels).tolist()))
  if untested and not config.classes:  # data.classes' own check names its ids
    names = [str(train_examples.class_names[c]) for c in untested]
    raise UserError(f"class(es) {names[:3]} of the {config.train_split} split have "
                    f"no image in the {config.test_split} split, so their test "
                    "accuracy could not be measured",
                    f"add their images to the {config.test_split} split (an image "
                    "folder: a sub-folder per class), or pick the classes to use "
                    "with data.classes")
  label_table = np.full(max(max(classes), train_examples.labels.max(),
                            test_examples.labels.max()) + 1, -1, np.int64)
  label_table[classes] = np.arange(len(classes))
  label_table = tf.constant(label_table)

  candidates = subsets.drop_first_per_class(
      train_examples.labels, subsets.class_subset(train_examples.labels, classes),
      config.get("skip_first_per_class", 0))
  split = subsets.split_train_val(train_examples.labels, candidates,
                                  config.val_per_class, config.images_per_class,
                                  seed=config.split_seed,
                                  meta_per_class=config.get("meta_per_class", 0),
                                  meta_into_train=config.get("meta_into_train", False))
  test_indices = subsets.class_subset(test_examples.labels, classes)

  class_names = [str(train_examples.class_names[c]) for c in classes]
  scrambled = None
  if config.get("scramble_train_labels", False):  # a known answer's harmful source
    true = np.asarray(label_table)[train_examples.labels[split.train]]
    scrambled = np.random.RandomState(config.split_seed + 1).permutation(true)
  return Datasets(
      train_from=_train_stream(train_examples, split.train, label_table, config,
                               batch_size, seed, scrambled),
      val=_eval_pipeline(train_examples, split.val, label_table, config,
                         batch_size),
      test=_eval_pipeline(test_examples, test_indices, label_table, config,
                          batch_size),
      class_names=class_names,
      input_shape=(config.image_size, config.image_size, config.channels),
      sizes={"train": len(split.train), "val": len(split.val),
             "test": len(test_indices)} | (
                 {"meta": len(split.meta)} if len(split.meta) else {}),
      steps_per_epoch=-(-len(split.train) // batch_size),
      meta=(_eval_pipeline(train_examples, split.meta, label_table, config,
                           batch_size) if len(split.meta) else None))
