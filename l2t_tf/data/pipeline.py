"""Builds the train / validation / test `tf.data` pipelines from a data config."""
import dataclasses

import numpy as np
import tensorflow as tf

from l2t_tf.data import preprocess, sources, subsets
from l2t_tf.errors import UserError

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass
class Datasets:
  train: tf.data.Dataset
  val: tf.data.Dataset
  test: tf.data.Dataset
  class_names: list[str]
  input_shape: tuple[int, int, int]
  sizes: dict[str, int]

  @property
  def num_classes(self) -> int:
    return len(self.class_names)


def _decode(image, encoded: bool, channels: int):
  if encoded:
    image = tf.io.decode_image(image, channels=3, expand_animations=False)
  return preprocess.to_channels(image, channels)


def _pipeline(examples: sources.Examples, indices: np.ndarray, label_table,
              config, batch_size: int, training: bool, seed: int):
  mode, size, channels = config.preprocessing, config.image_size, config.channels
  ds = examples.make(indices)
  # Before the cache: decode, and for 32x32 shrink to the final size, so the
  # cache holds small uint8 images. 224x224 caches the encoded bytes instead.
  def base(image, label):
    if mode == "cifar":
      image = preprocess.resize_uint8(_decode(image, examples.encoded, channels),
                                      size)
    return image, tf.gather(label_table, label)
  ds = ds.map(base, num_parallel_calls=AUTOTUNE)
  if config.cache:
    ds = ds.cache()

  def decoded(image):
    return image if mode == "cifar" else _decode(image, examples.encoded, channels)

  if training:
    ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
    randoms = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip(ds, randoms.batch(2))
    ds = ds.map(lambda example, s: (preprocess.train_image(
        decoded(example[0]), s, mode, size, channels), example[1]),
                num_parallel_calls=AUTOTUNE)
  else:
    ds = ds.map(lambda image, label: (preprocess.eval_image(
        decoded(image), mode, size, channels), label),
                num_parallel_calls=AUTOTUNE)
  return ds.batch(batch_size).prefetch(AUTOTUNE)


def build_datasets(config, batch_size: int, seed: int) -> Datasets:
  """Train (augmented, shuffled), validation (held out from train) and test sets.

  Labels are remapped to 0..K-1 in the order of `config.classes`.
  """
  if batch_size <= 0:
    raise UserError(f"train.batch_size must be positive, got {batch_size}",
                    "use e.g. --config.train.batch_size=64")
  if config.preprocessing not in preprocess.MODES:
    raise UserError(f"unknown data.preprocessing '{config.preprocessing}'",
                    f"use one of {list(preprocess.MODES)}")
  train_examples = sources.load_split(config, config.train_split)
  test_examples = sources.load_split(config, config.test_split)

  classes = list(config.classes) or sorted(np.unique(train_examples.labels).tolist())
  label_table = np.full(max(max(classes), train_examples.labels.max(),
                            test_examples.labels.max()) + 1, -1, np.int64)
  label_table[classes] = np.arange(len(classes))
  label_table = tf.constant(label_table)

  candidates = subsets.class_subset(train_examples.labels, classes)
  split = subsets.split_train_val(train_examples.labels, candidates,
                                  config.val_per_class, config.images_per_class,
                                  seed=config.split_seed)
  test_indices = subsets.class_subset(test_examples.labels, classes)

  make = lambda ex, idx, training: _pipeline(ex, idx, label_table, config,
                                             batch_size, training, seed)
  class_names = [str(train_examples.class_names[c]) for c in classes]
  return Datasets(
      train=make(train_examples, split.train, True),
      val=make(train_examples, split.val, False),
      test=make(test_examples, test_indices, False),
      class_names=class_names,
      input_shape=(config.image_size, config.image_size, config.channels),
      sizes={"train": len(split.train), "val": len(split.val),
             "test": len(test_indices)})
