"""What a run shows in TensorBoard besides Keras's curves: its config, hparams, figures.

Runs under WORKDIR/logs: `train` and `validation` (Keras), `test` (the test
set, evaluated once at the end), `meta/<pair>` (L2T-ww, one run per pair so
that each quantity is one chart with a line per pair), `policy` (L2TL), and
`run`: the config as text, the run's hyperparameters for the HParams view
(point TensorBoard at a grid's folder to compare its runs there) and, at the
end, every figure of WORKDIR/plots as an image.
"""
import json
import os

import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

from l2t_tf import dotted, storage

RUN = "run"
# The fields shown as hyperparameters: what grids and comparisons vary.
HPARAMS = ("method", "seed", "data.images_per_class", "data.val_per_class",
           "train.learning_rate", "train.epochs", "train.batch_size",
           "model.name", "model.width", "transfer.beta", "transfer.matching",
           "transfer.meta_objective", "transfer.meta_learning_rate",
           "transfer.freeze_meta", "transfer.placebo", "l2tl.class_weights",
           "l2tl.estimator", "l2tl.reward", "l2tl.placebo")


def write_config(log_dir: str, config_json: str) -> None:
  """The config as text and the HPARAMS fields as the run's hyperparameters."""
  flat = dotted.flatten(json.loads(config_json))
  values = {name: flat[name] for name in HPARAMS
            if isinstance(flat.get(name), (bool, int, float, str))}
  with tf.summary.create_file_writer(os.path.join(log_dir, RUN)).as_default(step=0):
    tf.summary.text("config", "```\n" + json.dumps(json.loads(config_json),
                                                   indent=2) + "\n```")
    hparams_api.hparams(values)


def write_test(log_dir: str, tested: dict) -> None:
  """The test set's accuracy and loss as the `test` run, at the best epoch
  (whose weights they measure), beside Keras's train and validation curves."""
  with tf.summary.create_file_writer(os.path.join(log_dir, "test")).as_default(
      step=max(tested["best_epoch"] - 1, 0)):  # Keras's epoch axis starts at 0
    tf.summary.scalar("epoch_accuracy", tested["test_accuracy"])
    tf.summary.scalar("epoch_loss", tested["test_loss"])


def write_figures(log_dir: str, plots_dir: str) -> list[str]:
  """Every PNG of `plots_dir` as an image of the `run` run; returns their tags."""
  if not storage.isdir(plots_dir):
    return []
  tags = []
  with tf.summary.create_file_writer(os.path.join(log_dir, RUN)).as_default(step=0):
    for name in sorted(storage.listdir(plots_dir)):
      if name.endswith(".png"):
        image = tf.io.decode_png(tf.io.read_file(os.path.join(plots_dir, name)),
                                 channels=3)
        tags.append(f"figures/{name[:-4]}")
        tf.summary.image(tags[-1], image[None])
  return tags
