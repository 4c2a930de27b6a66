"""L2TL's training stream: (target batch, source batch, validation batch) per step.

An epoch is `l2tl.steps_per_epoch` steps (0: one pass over the target
training set). The target stream, the source stream (batches of M_S * B_S,
full batches only) and the validation stream for the reward repeat as long
as needed. The reward's batch is the whole validation set, the same images
every step, when `l2tl.policy_batch_size` is 0 (the default): a reward that
moves only when the encoder does. B_P > 0 draws B_P of them, reshuffled.
Each is a function of the global step, like `Datasets.train_from`, so a run
resumed mid-epoch sees the batches the uninterrupted run saw.
"""
import dataclasses

import tensorflow as tf

from l2t_tf.data import pipeline
from l2t_tf.errors import UserError


def _repeating(datasets: pipeline.Datasets, batch: int, full_batches: int):
  """Global training batches [first, first + count) of `datasets`, over as many
  passes as needed (chained in Python, as `train_from` chains epochs); with
  `batch`, the short last batch of each pass is dropped."""
  def stream(first: int, count: int) -> tf.data.Dataset:
    epoch, step = divmod(first, full_batches)
    last = (first + count - 1) // full_batches + 1
    ds = datasets.train_from(epoch, step, last)
    if batch:
      ds = ds.filter(lambda images, labels: tf.shape(labels)[0] == batch)
    return ds.take(count)
  return stream


def _validation_stream(val: tf.data.Dataset, size: int, batch: int, seed: int):
  """Global reward batches [first, first + count) of the validation set:
  all of it every step (batch 0), or `batch` of it reshuffled."""
  if not batch:
    whole = val.unbatch().batch(size).cache()
    return lambda first, count: whole.repeat().take(count)
  def stream(first: int, count: int) -> tf.data.Dataset:
    ds = val.unbatch().shuffle(size, seed=seed, reshuffle_each_iteration=True)
    ds = ds.repeat().skip(first * batch).batch(batch, drop_remainder=True)
    return ds.take(count)
  return stream


def add_source(target: pipeline.Datasets, l2tl, source_batch_size: int,
               seed: int) -> tuple[pipeline.Datasets, list[str]]:
  """The target's Datasets with the joint training stream, and the source class names."""
  if l2tl.batch_multiplier < 1:
    raise UserError(f"l2tl.batch_multiplier must be >= 1, got {l2tl.batch_multiplier}",
                    "use e.g. --config.l2tl.batch_multiplier=2")
  if not target.sizes["val"]:
    raise UserError("L2TL's reward needs a validation set, but data.val_per_class "
                    "is 0", "pass e.g. --config.data.val_per_class=30")
  if l2tl.policy_batch_size < 0:
    raise UserError(f"l2tl.policy_batch_size must be >= 0, got "
                    f"{l2tl.policy_batch_size}", "use 0 (the whole validation "
                    "set, every step) or a number of images")
  if not l2tl.policy_batch_size <= target.sizes["val"]:
    raise UserError(f"l2tl.policy_batch_size is {l2tl.policy_batch_size} but the "
                    f"validation set has {target.sizes['val']} images",
                    "use 0 (the whole validation set, every step) or a smaller B_P")
  batch = l2tl.batch_multiplier * source_batch_size
  source = pipeline.build_datasets(l2tl.source_data, batch, seed=seed)
  if source.input_shape != target.input_shape:
    raise UserError(f"the source data gives images {source.input_shape} but the "
                    f"target data {target.input_shape}; L2TL shares one encoder",
                    "set l2tl.source_data.image_size/channels to the target's")
  full_batches = source.sizes["train"] // batch
  if full_batches < 1:
    raise UserError(f"the source training set has {source.sizes['train']} images, "
                    f"fewer than l2tl.batch_multiplier * source batch = {batch}",
                    "lower l2tl.batch_multiplier or l2tl.source_batch_size")
  if l2tl.steps_per_epoch < 0:
    raise UserError(f"l2tl.steps_per_epoch must be >= 0, got {l2tl.steps_per_epoch}",
                    "use 0 (one pass over the target training set) or a count")
  targets = _repeating(target, 0, target.steps_per_epoch)
  sources = _repeating(source, batch, full_batches)
  rewards = _validation_stream(target.val, target.sizes["val"],
                               l2tl.policy_batch_size, seed)
  steps = l2tl.steps_per_epoch or target.steps_per_epoch

  def train_from(epoch: int, step: int, epochs: int) -> tf.data.Dataset:
    first, count = epoch * steps + step, (epochs - epoch) * steps - step
    return tf.data.Dataset.zip((targets(first, count), sources(first, count),
                                rewards(first, count)))

  sizes = {**target.sizes, "source_train": source.sizes["train"]}
  return (dataclasses.replace(target, train_from=train_from, sizes=sizes,
                              steps_per_epoch=steps), source.class_names)
