"""Bad config values and data files refused in-process by train.run, before training.

The command-line path (one `error:` line, exit code 2) is tested once per kind
in test_main.py; these cases only need train.run's checks, so they run without
a subprocess. Each must leave the workdir as it was (here: not created).
"""
import os

import numpy as np
import pytest

import tiny
from configs import quickstart
from l2t_tf import grid, train
from l2t_tf.errors import UserError

TINY = {**quickstart.SMOKE, "export.enabled": False, "method": "scratch"}

# name: (overrides, text the error must hold)
CASES = {
    "zero validation images": ({"data.val_per_class": 0}, "val_per_class must be >= 1"),
    "negative validation images": ({"data.val_per_class": -2}, "val_per_class must be"),
    "negative images per class": ({"data.images_per_class": -3},
                                  "images_per_class must be >= 0"),
    "two channels": ({"data.channels": 2}, "data.channels must be one of 1, 3, got 2"),
    "duplicate class": ({"data.classes": (5, 5, 6)}, "lists a class twice"),
    "one class": ({"data.classes": (5,)}, "has one class"),
    "zero image size": ({"data.image_size": 0}, "image_size must be in \\[1, 4096\\], got 0"),
    "image too small for the model": ({"data.image_size": 16},
                                      "vgg9 cannot take 16x16 images"),
    "negative seed": ({"seed": -1}, "seed must be in \\[0, 4294967295\\], got -1"),
    "negative beta": ({"method": "l2t_ww", "transfer.beta": -1.0},
                      "transfer.beta must be >= 0"),
    "negative meta start": ({"method": "l2t_ww", "transfer.meta_start_epoch": -1.0},
                            "meta_start_epoch must be >= 0"),
    "XLA asked for with determinism": ({"deterministic": True,
                                       "train.jit_compile": "true"},
                                      "XLA has no deterministic mode"),
    "negative look-ahead step": ({"method": "l2t_ww", "transfer.lookahead_lr": -0.1},
                                 "lookahead_lr must be >= 0"),
    "unknown meta-objective": ({"method": "l2t_ww", "transfer.meta_objective": "x"},
                               "unknown transfer.meta_objective 'x'"),
    "alignment without a meta set": ({"method": "l2t_ww",
                                      "transfer.meta_objective": "alignment"},
                                     "needs a held-out meta set"),
    "a meta set too large": ({"data.meta_per_class": 4}, "meta_per_class \\(4\\) must"),
    "learning on a meta set it trains on": (
        {"method": "l2t_ww", "transfer.meta_objective": "alignment",
         "data.meta_per_class": 2, "data.meta_into_train": True},
        "data.meta_into_train trains on it"),
    "meta beta_2 of 1": ({"method": "l2t_ww", "transfer.meta_beta_2": 1.0},
                         "meta_beta_2 must be in"),
    "a 0.1 config's data.source": ({"data.source": "idx"}, "is now data.loader"),
    "momentum of 1.5": ({"train.momentum": 1.5}, "momentum must be in \\[0, 1\\)"),
    "negative weight decay": ({"train.weight_decay": -1.0},
                              "weight_decay must be >= 0"),
    "infinite learning rate": ({"train.learning_rate": float("inf")},
                               "train.learning_rate=inf is not a finite number"),
    "NaN beta": ({"method": "fm", "transfer.beta": float("nan")},
                 "transfer.beta=nan is not a finite number"),
    "zero meta learning rate": ({"method": "l2t_ww", "transfer.meta_learning_rate": 0.0},
                                "meta_learning_rate must be positive"),
    "negative meta weight decay": ({"method": "l2t_ww",
                                    "transfer.meta_weight_decay": -1e-4},
                                   "meta_weight_decay must be >= 0"),
    "no checkpoint kept": ({"checkpoint.keep": 0}, "checkpoint.keep must be >= 1"),
    "export name with a slash": ({"export.enabled": True, "export.model_name": "a/b"},
                                 "model_name must be one folder name"),
    "empty export name": ({"export.enabled": True, "export.model_name": ""},
                          "model_name must be one folder name"),
    "class names instead of label ids": (
        {"data.classes": ("abc", "def")},
        r"data.classes=\('abc', 'def'\) must be a tuple of whole"),
    "negative class id": ({"data.classes": (-1, 2)}, "holds -1, which is not"),
    "ImageNet weights for a model without them": ({"model.weights": "imagenet"},
                                                  "model.weights='imagenet' is for"),
    "a known-answer source to fine-tune": (
        {"method": "finetune",
         "transfer.source_paths": ("noisy:assets:source_resnet32_fmnist_0-4.keras",)},
        "is a known-answer source .* which finetune cannot use"),
    "a source of another input size to fine-tune": (
        {"method": "finetune", "data.image_size": 64},
        r"takes inputs \(32, 32, 3\) but the data gives \(64, 64, 3\)"),
}


def _config(overrides: dict):
  config = quickstart.get_config()
  for dotted, value in {**TINY, **overrides}.items():
    node = config
    *parents, name = dotted.split(".")
    for parent in parents:
      node = node[parent]
    node[name] = value
  return config


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_config_is_refused_before_the_workdir_is_touched(tmp_path, name):
  overrides, message = CASES[name]
  workdir = tmp_path / "run"
  with pytest.raises(UserError, match=message) as error:
    train.run(_config(overrides), str(workdir))
  assert "Fix:" in str(error.value)
  assert not workdir.exists()


def test_idx_images_and_labels_of_different_lengths_are_refused(tmp_path):
  rng = np.random.default_rng(0)
  for prefix, n_images, n_labels in (("train", 60, 40), ("t10k", 20, 20)):
    tiny.write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz",
               rng.integers(0, 255, (n_images, 28, 28)))
    tiny.write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz",
               np.arange(n_labels) % 10)
  config = _config({"data.loader": "idx", "data.path": str(tmp_path),
                    "data.images_per_class": 1, "data.val_per_class": 1})
  with pytest.raises(UserError, match="60 images but 40 labels"):
    train.run(config, str(tmp_path / "run"))
  assert not os.path.exists(tmp_path / "run")


def test_export_folder_that_is_a_file_is_refused_before_training(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("not a folder")
  config = _config({"export.enabled": True, "export.base_dir": str(blocker / "x")})
  with pytest.raises(UserError, match="is a file"):
    train.run(config, str(tmp_path / "run"))
  assert blocker.read_text() == "not a folder" and not (tmp_path / "run").exists()


@pytest.mark.parametrize("pairs", [((1,),), ((1, 2, 3),), (5,)])
def test_malformed_pairs_are_refused(tmp_path, pairs):
  config = _config({"method": "l2t_ww", "transfer.pairs": pairs})
  with pytest.raises(UserError, match="not pair labels or \\(source, target\\) pairs"):
    train.run(config, str(tmp_path / "run"))


def test_a_source_without_feature_points_is_refused(tmp_path):
  import keras  # pylint: disable=g-import-not-at-top
  inputs = keras.Input((32, 32, 3))
  plain = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
  path = str(tmp_path / "plain.keras")
  plain.save(path)
  config = _config({"method": "l2t_ww", "transfer.source_paths": (path,)})
  with pytest.raises(UserError, match="no feature points"):
    train.run(config, str(tmp_path / "run"))


def test_a_folder_with_one_class_is_refused(tmp_path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  for split in ("train", "test"):
    folder = tmp_path / "data" / split / "cat"
    folder.mkdir(parents=True)
    for i in range(4):
      (folder / f"{i}.png").write_bytes(
          tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)).numpy())
  config = _config({"data.loader": "folder", "data.path": str(tmp_path / "data"),
                    "data.classes": (), "data.images_per_class": 0,
                    "data.val_per_class": 1})
  with pytest.raises(UserError, match="1 class: nothing to classify"):
    train.run(config, str(tmp_path / "run"))


@pytest.mark.parametrize("text, message", [('{"method": "scra', "is not valid JSON"),
                                           ("[]", "holds a JSON list, not the object")])
def test_a_damaged_config_json_in_the_workdir_is_one_line(tmp_path, text, message):
  workdir = tmp_path / "run"
  workdir.mkdir()
  (workdir / "config.json").write_text(text)
  with pytest.raises(UserError, match=f"config.json {message}"):
    train.run(_config({}), str(workdir))
  assert (workdir / "config.json").read_text() == text


@pytest.mark.parametrize("field", ["workdir", "export.base_dir", "data.path",
                                   "transfer.source_paths"])
def test_a_filesystem_tensorflow_lacks_is_one_line(tmp_path, field):
  """`foo://` as a user's mistyped or uninstalled scheme (s3:// without
  tensorflow-io reads the same): named, before anything is written."""
  overrides = {"export.enabled": True, "export.base_dir": "foo://b/export",
               "data.loader": "idx", "data.path": "foo://b/data",
               "method": "fm", "transfer.source_paths": ("foo://b/s.keras",),
               "workdir": "foo://b/run"}
  keep = {"workdir": [], "export.base_dir": ["export.enabled", "export.base_dir"],
          "data.path": ["data.loader", "data.path"],
          "transfer.source_paths": ["method", "transfer.source_paths"]}[field]
  config = _config({k: overrides[k] for k in keep})
  workdir = overrides["workdir"] if field == "workdir" else str(tmp_path / "run")
  with pytest.raises(UserError, match="cannot reach foo://b/.*scheme 'foo' not "
                     "implemented.*tensorflow-io"):
    train.run(config, workdir)
  assert not (tmp_path / "run").exists()


def test_a_workdir_that_is_a_file_is_refused(tmp_path):
  blocker = tmp_path / "run"
  blocker.write_text("notes")
  with pytest.raises(UserError, match="is a file"):
    train.run(_config({}), str(blocker))
  assert blocker.read_text() == "notes"


@pytest.mark.parametrize("compare, message", [
    ((), "names no method"), (("scratch", "bogus"), "unknown method 'bogus'")])
def test_a_comparison_of_nothing_or_an_unknown_method_is_refused(tmp_path, compare,
                                                                  message):
  with pytest.raises(UserError, match=message):
    grid.run_comparison(_config({"method": ""}), str(tmp_path / "run"), compare)
  assert not (tmp_path / "run").exists()  # scratch did not train first


@pytest.mark.parametrize("field, value, message", [
    ("l2tl.policy_learning_rate", -1.0, "policy_learning_rate must be positive"),
    ("l2tl.policy_batch_size", -5, "policy_batch_size must be >= 0"),
    ("l2tl.source_batch_size", -5, "source_batch_size must be >= 0"),
    ("l2tl.estimator", "ppo", "unknown l2tl.estimator 'ppo'"),
    ("l2tl.class_weights", "fixed", "the classes kept go with policy 'fixed'"),
    ("l2tl.fixed_classes", ("digit:",), "the classes kept go with policy 'fixed'"),
    ("l2tl.placebo", True, "l2tl.placebo flips the learned policy's signal"),
    ({"l2tl.class_weights": "fixed", "l2tl.fixed_classes": ("cat",)},
     None, "keeps no source class")])
def test_bad_l2tl_settings_are_refused(tmp_path, field, value, message):
  from configs import common, l2tl_quickstart  # pylint: disable=g-import-not-at-top
  overrides = field if isinstance(field, dict) else {field: value}
  if "l2tl.placebo" in overrides:  # with a policy it cannot flip
    overrides["l2tl.class_weights"] = "random"
  config = common.with_overrides(l2tl_quickstart.get_config(), {
      **l2tl_quickstart.SMOKE, "export.enabled": False, **overrides})
  with pytest.raises(UserError, match=message):
    train.run(config, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()
