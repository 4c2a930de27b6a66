"""train.run with the workdir on a non-local filesystem (ram://, standing in
for gs://): every output, the lock, a resume and the export go through it."""
import json
import os
import time

import numpy as np
import pytest
import tensorflow as tf

from configs import common, quickstart
from l2t_tf import export, storage, train
from l2t_tf import workdir as workdir_lib
from l2t_tf.errors import UserError


def _config(**overrides):
  return common.with_overrides(quickstart.get_config(), {
      **quickstart.SMOKE, "method": "l2t_ww", "train.epochs": 2,
      "checkpoint.every_steps": 1, **overrides})


@pytest.mark.slow  # 45 s: trains, resumes and exports twice
def test_a_run_on_a_workdir_without_rename(ram, monkeypatch):
  workdir = f"{ram}/run"
  # Killed after training, before any output: the checkpoints are all there is.
  def killed(*args, **kwargs):
    raise KeyboardInterrupt
  monkeypatch.setattr(train, "_write_outputs", killed)
  with pytest.raises(KeyboardInterrupt):
    train.run(_config(), workdir)
  assert storage.read_text(f"{workdir}/checkpoints/LATEST").startswith("ckpt-")
  assert not storage.exists(f"{workdir}/{workdir_lib.LOCK}")  # released
  monkeypatch.undo()

  results = train.run(_config(), workdir)  # resumes: nothing left to train
  saved = json.loads(storage.read_text(f"{workdir}/results.json"))
  assert saved["test_accuracy"] == results["test_accuracy"]
  assert len(saved["history"]["loss"]) == 2  # both epochs, from the checkpoints
  names = set(storage.listdir(workdir))
  assert {"config.json", "model.keras", "lambdas.json", workdir_lib.META_INIT,
          workdir_lib.META_TRACE, "checkpoints", "logs", "plots",
          "export"} <= names, names
  assert not [n for n in names if n.startswith((".tmp-", ".lock", ".write-test"))]
  assert storage.find(workdir, "plots", "*.png")
  assert storage.find(workdir, "logs", "train", "events.out.tfevents.*")

  version = results["export"]
  assert version == f"{workdir}/export/target/1"
  served = tf.saved_model.load(version).signatures["serving_default"](
      images=tf.zeros([2, 28, 28, 1], tf.uint8))
  np.testing.assert_allclose(served["probabilities"].numpy().sum(axis=1), 1,
                             rtol=1e-5)
  assert storage.read_text(f"{version}/assets.extra/class_names.txt").split() == [
      "Sandal", "Sneaker"]
  assert export.export_workdir(workdir) == f"{workdir}/export/target/2"

  with pytest.raises(UserError, match="already holds a finished run"):
    train.run(_config(), workdir)


def test_a_second_process_is_refused_on_a_workdir_without_rename(ram):
  workdir = f"{ram}/run"
  # The parent began before the lock says it was taken: it holds the lock.
  holder = {"pid": os.getppid(), "host": os.uname().nodename, "started": time.time()}
  storage.makedirs(workdir)
  storage.write(f"{workdir}/{workdir_lib.LOCK}", json.dumps(holder))
  with pytest.raises(UserError, match=f"in use by process {os.getppid()}"):
    train.run(_config(), workdir)
  assert storage.listdir(workdir) == [workdir_lib.LOCK]


def test_the_test_set_is_evaluated_once_on_the_best_epochs_weights(tmp_path):
  """By default no test pass per epoch: one at the end on the best validation
  epoch's weights (what model.keras holds) and one on the last weights; the
  per-epoch option reports the same numbers from its history."""
  import keras  # pylint: disable=g-import-not-at-top
  from l2t_tf.data import pipeline  # pylint: disable=g-import-not-at-top
  # Settings whose best validation epoch (3) is not the last (4), and whose
  # test accuracies there differ: exporting the last weights would show.
  overrides = {"method": "scratch", "train.epochs": 4, "export.enabled": False,
               "checkpoint.every_steps": 0, "train.learning_rate": 0.3,
               "data.images_per_class": 30, "data.val_per_class": 10,
               "model.width": 0.125}
  every = train.run(_config(**overrides, **{"train.test_every_epoch": True}),
                    str(tmp_path / "every"))
  history = every["history"]
  assert len(history["test_accuracy"]) == 4 and every["best_epoch"] < 4
  assert abs(every["test_accuracy"] - every["final_test_accuracy"]) > 0.01
  assert every["test_accuracy"] == pytest.approx(
      history["test_accuracy"][every["best_epoch"] - 1], abs=1e-6)
  assert every["final_test_accuracy"] == pytest.approx(history["test_accuracy"][-1],
                                                       abs=1e-6)
  config = _config(**overrides)
  once = train.run(config, str(tmp_path / "once"))
  assert "test_accuracy" not in once["history"]
  for key in ("best_epoch", "test_accuracy", "final_test_accuracy"):
    assert once[key] == pytest.approx(every[key], abs=1e-6), key
  saved = keras.saving.load_model(str(tmp_path / "once" / "model.keras"))
  saved.compile(metrics=["accuracy"], loss=keras.losses.SparseCategoricalCrossentropy(
      from_logits=True))
  test = pipeline.build_datasets(config.data, config.train.batch_size, seed=0).test
  accuracy = saved.evaluate(test, verbose=0, return_dict=True)["accuracy"]
  assert accuracy == pytest.approx(once["test_accuracy"], abs=1e-6)


def test_keep_weights_last_tests_saves_and_reports_the_last_epoch(tmp_path):
  config = common.with_overrides(quickstart.get_config(), {
      **quickstart.SMOKE, "method": "scratch", "train.epochs": 3,
      "export.enabled": False, "train.keep_weights": "last"})
  results = train.run(config, str(tmp_path / "run"))
  assert results["kept_weights"] == "last"
  assert results["test_accuracy"] == results["final_test_accuracy"]
