"""main.py end to end on tiny data, and its one-line errors on bad input."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--config.data.classes=(5,7)", "--config.data.images_per_class=8",
        "--config.data.val_per_class=4", "--config.data.image_size=32",
        "--config.model.width=0.0625", "--config.train.batch_size=8",
        "--config.train.epochs=1", "--config.train.verbose=0"]


def _main(*args, workdir):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run(
      [sys.executable, os.path.join(ROOT, "main.py"),
       "--config=" + os.path.join(ROOT, "configs/quickstart.py"),
       f"--workdir={workdir}", *TINY, *args],
      capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def _snapshot(folder):
  """{path: (size, mtime)} of every file, to prove a failed run changed nothing."""
  return {os.path.join(d, f): os.stat(os.path.join(d, f))[6:9:2]
          for d, _, files in os.walk(folder) for f in files}


def test_quickstart_compares_scratch_and_l2t_ww(tmp_path):
  result = _main(workdir=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  for method in ("scratch", "l2t_ww"):
    assert f"{method}: test accuracy" in result.stdout
    results = json.loads((tmp_path / method / "results.json").read_text())
    for key in ("method", "val_accuracy", "test_accuracy", "best_epoch",
                "epochs", "seconds"):
      assert key in results
    assert results["method"] == method and 0 <= results["test_accuracy"] <= 1
    assert results["epochs"] == 1  # --config.train.epochs=1 took effect
    assert (tmp_path / method / "model.keras").exists()
    assert os.listdir(tmp_path / method / "logs")  # TensorBoard
  lambdas = json.loads((tmp_path / "l2t_ww" / "lambdas.json").read_text())
  assert len(lambdas) == 15 and all(v["mean"] >= 0 for v in lambdas.values())


@pytest.mark.parametrize("method", ["fm", "l2t_w"])
def test_single_method(tmp_path, method):
  result = _main(f"--config.method={method}", "--config.transfer.matching=one_to_one",
                 workdir=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  assert json.loads((tmp_path / "results.json").read_text())["method"] == method


@pytest.fixture(scope="module")
def finished_workdir(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("done")
  result = _main("--config.method=scratch", workdir=workdir)
  assert result.returncode == 0, result.stderr[-2000:]
  return workdir


def _truncated(tmp_path):
  path = tmp_path / "truncated.keras"
  source = os.path.join(ROOT, "l2t_tf/assets/source_resnet32_fmnist_0-4.keras")
  path.write_bytes(open(source, "rb").read()[:5000])
  return str(path)


BAD_INPUTS = {
    "unknown method": (["--config.method=magic"], "unknown method"),
    "unknown model": (["--config.method=scratch", "--config.model.name=resnet7"],
                      "unknown model"),
    "unknown dataset source": (["--config.data.source=ftp"], "unknown data.source"),
    "missing data directory": (["--config.data.source=folder",
                                "--config.data.path=/nonexistent"],
                               "does not exist"),
    "tfds offline": (["--config.data.source=tfds", "--config.data.name=cifar100",
                      "--config.data.data_dir=/nonexistent"],
                     "TFDS could not load"),
    "zero batch size": (["--config.train.batch_size=0"], "batch_size"),
    "missing source checkpoint": (["--config.method=l2t_ww",
                                   "--config.transfer.source_paths=('/no/src.keras',)"],
                                  "does not exist"),
    "truncated source checkpoint": (["--config.method=l2t_ww",
                                     "--config.transfer.source_paths=('{truncated}',)"],
                                    "cannot read source checkpoint"),
    "pair index out of range": (["--config.method=l2t_ww",
                                 "--config.transfer.pairs=((9,0),)"], "out of range"),
    "source input size": (["--config.method=l2t_ww", "--config.data.image_size=32",
                           "--config.data.channels=1"], "takes inputs"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_one_line_nonzero_exit_workdir_untouched(tmp_path, finished_workdir,
                                                           name):
  args, message = BAD_INPUTS[name]
  args = [a.replace("{truncated}", _truncated(tmp_path)) for a in args]
  before = _snapshot(finished_workdir)
  # Run against a fresh folder inside the finished workdir's parent and
  # against the finished workdir itself: neither may change.
  result = _main(*args, workdir=finished_workdir)
  assert result.returncode != 0
  error_lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert len(error_lines) == 1 and message in error_lines[0], result.stderr[-1500:]
  assert _snapshot(finished_workdir) == before


def test_finished_workdir_is_not_overwritten(finished_workdir):
  before = _snapshot(finished_workdir)
  result = _main("--config.method=scratch", workdir=finished_workdir)
  assert result.returncode != 0 and "already holds a finished run" in result.stderr
  assert _snapshot(finished_workdir) == before


def test_unwritable_workdir(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("not a folder")
  result = _main("--config.method=scratch", workdir=blocker / "sub")
  assert result.returncode != 0 and "not writable" in result.stderr


def test_unknown_config_field_fails(tmp_path):
  result = _main("--config.train.epochz=3", workdir=tmp_path)
  assert result.returncode != 0 and "epochz" in result.stderr
  assert not os.listdir(tmp_path)
