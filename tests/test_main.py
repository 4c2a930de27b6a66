"""main.py end to end on tiny data, and its one-line errors on bad input."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import cli
from l2t_tf.errors import UserError


def test_quickstart_compares_scratch_and_l2t_ww(tmp_path):
  result = cli.main(workdir=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  for method in ("scratch", "l2t_ww"):
    assert f"{method}: test accuracy" in result.stdout
    results = json.loads((tmp_path / method / "results.json").read_text())
    for key in ("method", "val_accuracy", "test_accuracy", "best_epoch",
                "epochs", "seconds", "history", "export"):
      assert key in results
    assert results["method"] == method and 0 <= results["test_accuracy"] <= 1
    assert results["epochs"] == 1  # --config.train.epochs=1 took effect
    assert (tmp_path / method / "model.keras").exists()
    assert os.listdir(tmp_path / method / "logs")  # TensorBoard
    assert (tmp_path / method / "export" / "target" / "1" / "saved_model.pb").exists()
  lambdas = json.loads((tmp_path / "l2t_ww" / "lambdas.json").read_text())
  assert len(lambdas) == 15 and all(v["mean"] >= 0 for v in lambdas.values())
  # A comparison is a one-seed grid: its table, CSV and learning curves.
  table = (tmp_path / "table.md").read_text()
  assert "| scratch |" in table and "| l2t_ww |" in table
  assert (tmp_path / "results.csv").read_text().count("\n") == 3
  assert (tmp_path / "plots" / "learning_curves.png").exists()
  # Rerunning a finished comparison skips its methods instead of failing.
  again = cli.main(workdir=tmp_path)
  assert again.returncode == 0 and "scratch: test accuracy" in again.stdout
  # ... but not with another config: its results would be stale.
  stale = cli.main("--config.train.learning_rate=0.01", workdir=tmp_path)
  assert stale.returncode == 2
  assert "finished run with another config" in cli.error_lines(stale)[0]
  # The console: no TensorFlow start-up lines and no export INFO lines.
  for noise in ("cuda", "oneDNN", "absl::InitializeLog", "fingerprint"):
    assert noise not in result.stderr + result.stdout, noise


def test_a_workdir_in_use_is_refused(tmp_path):
  from l2t_tf import workdir  # pylint: disable=g-import-not-at-top
  with workdir.lock(str(tmp_path)):
    result = cli.main("--config.method=scratch", workdir=tmp_path)
  assert result.returncode == 2
  assert f"in use by process {os.getpid()}" in cli.error_lines(result)[0]
  assert sorted(os.listdir(tmp_path)) == []  # nothing written


@pytest.mark.parametrize("method", ["fm", "l2t_w"])
def test_single_method(tmp_path, method):
  result = cli.main(f"--config.method={method}",
                    "--config.transfer.matching=one_to_one", workdir=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  assert json.loads((tmp_path / "results.json").read_text())["method"] == method


@pytest.mark.parametrize("method", ["finetune", "lwf", "at", "lwf_at", "jm", "kd"])
def test_baseline_methods_run_from_the_quickstart(tmp_path, method):
  # KD distils a same-task source: the quickstart's has 5 classes. (A repeated
  # tuple flag would be appended to, not replaced, so TINY's is swapped out.)
  tiny = [a.replace("(5,7)", "(5,6,7,8,9)") if method == "kd" else a
          for a in cli.TINY]
  result = cli.main(f"--config={cli.QUICKSTART}", *tiny,
                    f"--config.method={method}", workdir=tmp_path, config=None)
  assert result.returncode == 0, result.stderr[-2000:]
  results = json.loads((tmp_path / "results.json").read_text())
  assert results["method"] == method and 0 <= results["test_accuracy"] <= 1


@pytest.fixture(scope="module")
def finished_workdir(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("done")
  result = cli.main("--config.method=scratch", workdir=workdir)
  assert result.returncode == 0, result.stderr[-2000:]
  return workdir


def test_export_mode_adds_a_version(finished_workdir, tmp_path):
  workdir = tmp_path / "run"
  shutil.copytree(finished_workdir, workdir)
  first = cli.snapshot(workdir / "export" / "target" / "1")
  result = cli.main("--mode=export", workdir=workdir, config=None)
  assert result.returncode == 0, result.stderr[-2000:]
  assert f"exported {workdir}/export/target/2" in result.stdout
  assert cli.snapshot(workdir / "export" / "target" / "1") == first


def _unfinished_copy(finished, destination, keep=("checkpoints", "config.json")):
  """A workdir as a killed run leaves it: checkpoints (and config), no results."""
  os.makedirs(destination)
  for name in keep:
    source = os.path.join(finished, name)
    (shutil.copytree if os.path.isdir(source) else shutil.copy)(
        source, os.path.join(destination, name))
  return destination


def _truncate_latest_checkpoint(workdir):
  directory = os.path.join(workdir, "checkpoints")
  with open(os.path.join(directory, "LATEST")) as f:
    npz = os.path.join(directory, f.read().strip(), "variables.npz")
  with open(npz, "r+b") as f:
    f.truncate(os.path.getsize(npz) // 2)


def _workdir(kind, finished, tmp_path):
  if kind == "finished":
    return finished
  if kind == "foreign checkpoint":
    return _unfinished_copy(finished, tmp_path / "w", keep=("checkpoints",))
  workdir = _unfinished_copy(finished, tmp_path / "w")
  if kind == "truncated checkpoint":
    _truncate_latest_checkpoint(workdir)
  return workdir


# L2TL on the quickstart's target with the embedded subset as source dataset.
L2TL = ["--config.method=l2tl", "--config.l2tl.source_data.loader=embedded",
        "--config.l2tl.source_data.classes=(0,1,2)"]
L2TL_QUICKSTART = os.path.join(cli.ROOT, "configs/l2tl_quickstart.py")


def test_l2tl_quickstart_writes_results_and_the_source_class_ranking(tmp_path):
  result = cli.main("--config.l2tl.source_data.classes=(0,1,2)",
                    "--config.l2tl.steps_per_epoch=2", "--config.l2tl.pretrain_steps=2",
                    "--config.train.epochs=2", "--config.l2tl.policy_batch_size=8",
                    workdir=tmp_path, config=L2TL_QUICKSTART)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "l2tl: test accuracy" in result.stdout
  results = json.loads((tmp_path / "results.json").read_text())
  assert results["method"] == "l2tl" and results["data_sizes"]["source_train"] == 900
  # Epoch 1 pre-trains on the source (alpha_s = 1), epoch 2 samples alpha_s <= 0.5.
  assert results["history"]["alpha"][0] == 1.0 and results["history"]["alpha"][1] <= 0.5
  ranking = json.loads((tmp_path / "source_class_weights.json").read_text())
  weights = [c["expected_weight"] for c in ranking["classes"]]
  assert len(weights) == 3
  assert weights == sorted(weights, reverse=True) and 0 <= min(weights) <= 1
  assert {c["class"] for c in ranking["classes"]} == {"T-shirt/top", "Trouser",
                                                      "Pullover"}
  assert (tmp_path / "plots" / "source_class_weights.png").stat().st_size > 1000
  # The policy before its first step, then per epoch with the signal it saw.
  trace = json.loads((tmp_path / "policy_trace.json").read_text())
  assert sorted(trace) == ["0", "1", "2"]
  assert trace["0"]["expected_lambda"] == [0.5] * 3 and trace["0"]["steps"] == 0
  assert trace["2"]["steps"] == 2 and len(trace["2"]["lambda_advantage_t"]) == 3
  assert trace["1"]["expected_lambda"] == [0.5] * 3  # pre-training: no policy step
  assert (tmp_path / "plots" / "policy_over_training.png").stat().st_size > 1000
  assert (tmp_path / "model.keras").exists()


# name: (extra flags, text the one error line must hold, workdir it runs in)
BAD_INPUTS = {
    "unknown method": (["--config.method=magic"], "unknown method", "finished"),
    "unknown model": (["--config.method=scratch", "--config.model.name=resnet7"],
                      "unknown model", "finished"),
    "unknown dataset source": (["--config.data.loader=ftp"], "unknown data.loader",
                               "finished"),
    "missing data directory": (["--config.data.loader=folder",
                                "--config.data.path=/nonexistent"],
                               "does not exist", "finished"),
    "tfds offline": (["--config.data.loader=tfds", "--config.data.name=cifar100",
                      "--config.data.data_dir=/nonexistent"],
                     "TFDS could not load", "finished"),
    "zero batch size": (["--config.train.batch_size=0"], "batch_size", "finished"),
    "negative batch size": (["--config.train.batch_size=-8"], "batch_size",
                            "finished"),
    "zero epochs": (["--config.train.epochs=0"], "train.epochs", "finished"),
    "warm-up longer than training": (["--config.train.warmup_epochs=1"],
                                     "warmup_epochs", "finished"),
    "unknown strategy": (["--config.train.strategy=tpu_pod"],
                         "unknown train.strategy", "finished"),
    "multi_worker without TF_CONFIG": (["--config.train.strategy=multi_worker"],
                                       "names no cluster", "finished"),
    "bad jit_compile": (["--config.train.jit_compile=maybe"], "jit_compile",
                        "finished"),
    "negative checkpoint interval": (["--config.checkpoint.every_steps=-1"],
                                     "every_steps", "finished"),
    "kd with another task": (["--config.method=kd"], "same task", "finished"),
    "zero meta_every": (["--config.method=l2t_ww", "--config.transfer.meta_every=0"],
                        "meta_every", "finished"),
    "unknown transfer scheme": (["--config.method=l2t_ww",
                                 "--config.transfer.scheme=one_stage"],
                                "unknown transfer.scheme", "finished"),
    "missing source checkpoint": (["--config.method=l2t_ww",
                                   "--config.transfer.source_paths=('/no/src.keras',)"],
                                  "does not exist", "finished"),
    "truncated source checkpoint": (["--config.method=l2t_ww",
                                     "--config.transfer.source_paths=('{truncated}',)"],
                                    "cannot read source checkpoint", "finished"),
    "pair given by positions": (["--config.method=l2t_ww",
                                 "--config.transfer.pairs=((9,0),)"], "gives positions",
                                "finished"),
    "unknown pair label": (["--config.method=l2t_ww",
                            "--config.transfer.pairs=('3_9',)"], "names no pair '3_9'",
                           "finished"),
    "source input size": (["--config.method=l2t_ww", "--config.data.image_size=32",
                           "--config.data.channels=1"], "takes inputs", "finished"),
    "existing export version": (["--config.export.base_dir={finished}/export",
                                 "--config.export.version=1"], "already exists",
                                "finished"),
    "finished workdir": (["--config.method=scratch"], "already holds a finished run",
                         "finished"),
    # Checkpoints copied in without their config.json: refused before the
    # restore could find another architecture (tests/test_checkpoints.py).
    "checkpoints without their config": (["--config.method=scratch",
                                          "--config.model.width=0.125"],
                                         "holds checkpoints but no config.json",
                                         "foreign checkpoint"),
    "truncated checkpoint file": (["--config.method=scratch"],
                                  "unreadable or truncated", "truncated checkpoint"),
    "resume with another config": (["--config.method=scratch",
                                    "--config.train.learning_rate=0.5"],
                                   "another config", "unfinished"),
    "unknown l2tl policy": ([*L2TL, "--config.l2tl.class_weights=greedy"],
                            "unknown l2tl.class_weights", "finished"),
    "unknown l2tl reward": ([*L2TL, "--config.l2tl.reward=f1"],
                            "unknown l2tl.reward", "finished"),
    "l2tl without validation images": ([*L2TL, "--config.data.val_per_class=0"],
                                       "val_per_class must be >= 1", "finished"),
    "l2tl source of another image size": (
        [*L2TL, "--config.l2tl.source_data.image_size=28"], "shares one encoder",
        "finished"),
}


def _truncated_source(tmp_path):
  path = tmp_path / "truncated.keras"
  source = os.path.join(cli.ROOT, "l2t_tf/assets/source_resnet32_fmnist_0-4.keras")
  path.write_bytes(open(source, "rb").read()[:5000])
  return str(path)


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_one_line_nonzero_exit_nothing_changed(tmp_path, finished_workdir,
                                                        name):
  """In-process through train.run (the command line turns the same UserError
  into one `error:` line and exit code 2; the CLI tests below show that)."""
  args, message, kind = BAD_INPUTS[name]
  args = [a.replace("{truncated}", _truncated_source(tmp_path))
           .replace("{finished}", str(finished_workdir)) for a in args]
  workdir = _workdir(kind, finished_workdir, tmp_path)
  before = cli.snapshot(workdir), cli.snapshot(finished_workdir)
  with pytest.raises(UserError) as error:
    cli.train_in_process(*args, workdir=workdir)
  assert message in str(error.value) and "Fix:" in str(error.value)
  assert (cli.snapshot(workdir), cli.snapshot(finished_workdir)) == before


def test_export_of_an_unfinished_run_is_one_line(finished_workdir, tmp_path):
  workdir = _workdir("unfinished", finished_workdir, tmp_path)
  before = cli.snapshot(workdir)
  result = cli.main("--mode=export", workdir=workdir)
  assert result.returncode == 2
  lines = cli.error_lines(result)
  assert len(lines) == 1 and "holds no finished run" in lines[0] and "Fix:" in lines[0]
  assert cli.snapshot(workdir) == before


def test_a_workdir_under_tilde_is_in_the_home_folder(tmp_path):
  result = subprocess.run(
      cli.command("--config.method=scratch", "--config.export.enabled=False",
                  workdir="~/run"),
      capture_output=True, text=True, cwd=cli.ROOT, env=cli.env(HOME=str(tmp_path)),
      timeout=600)
  assert result.returncode == 0, result.stderr[-2000:]
  assert (tmp_path / "run" / "results.json").exists()
  assert not os.path.exists(os.path.join(cli.ROOT, "~"))


def test_unwritable_workdir(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("not a folder")
  result = cli.main("--config.method=scratch", "--config.export.enabled=False",
                    workdir=blocker / "sub")
  assert result.returncode != 0 and "not writable" in result.stderr
  assert blocker.read_text() == "not a folder"


def test_unknown_config_field_fails(tmp_path):
  result = cli.main("--config.train.epochz=3", workdir=tmp_path)
  assert result.returncode != 0 and "epochz" in result.stderr
  assert not os.listdir(tmp_path)


def test_nan_loss_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path):
  result = cli.main("--config.method=scratch", "--config.train.learning_rate=1e30",
                    "--config.checkpoint.every_steps=1", workdir=tmp_path)
  assert result.returncode != 0
  lines = cli.error_lines(result)
  assert len(lines) == 1 and "the loss became nan at epoch 1, batch 2" in lines[0]
  assert "ckpt-00000001" in lines[0]
  assert (tmp_path / "checkpoints" / "LATEST").read_text().strip() == "ckpt-00000001"
  assert not (tmp_path / "results.json").exists()


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("x = (\n", "SyntaxError"),
    ("y = 1\n", "has no attribute 'get_config'"),
    ("def get_config():\n  return None\n", "returned None"),
])
def test_a_broken_config_file_is_one_line(tmp_path, content, message):
  path = tmp_path / "config_file.py"
  if content is not None:
    path.write_text(content)
  result = subprocess.run([sys.executable, os.path.join(cli.ROOT, "main.py"),
                           f"--config={path}", f"--workdir={tmp_path / 'run'}"],
                          capture_output=True, text=True, cwd=cli.ROOT, env=cli.env(),
                          timeout=300)
  assert result.returncode == 2
  lines = cli.error_lines(result)
  assert len(lines) == 1 and message in lines[0] and "Fix:" in lines[0], result.stderr
  assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args,message", [
    (["--config=configs/quickstart.py", "--mode=bogus"], "value should be one of"),
    (["--config=configs/quickstart.py", "--config.train.epochs=abc"],
     "--config.train.epochs=abc: invalid literal"),
    (["--config=configs/quickstart.py", "--config.train.epochz=3"],
     'no config field (epochz Did you mean "epochs"'),
    (["--config=configs/paper_table1.py:cub"], "unknown dataset 'cub'"),
    (["--config=configs/quickstart.py", "--config.data.source=idx"],
     "data.source is now data.loader"),
    (["--config=configs/l2tl_quickstart.py", "--config.l2tl.policy=fixed"],
     "l2tl.policy is now l2tl.class_weights"),
    (["--config=configs/quickstart.py", "--config.data.classes=(5,7)",
      "--config.data.classes=(6,8)"], "--config.data.classes is given twice (a tuple"),
    (["configs/quickstart.py"], "pass flags, e.g. --config=configs/quickstart.py"),
])
def test_a_bad_flag_is_one_line(tmp_path, args, message):
  """Flag values absl or ml_collections reject: one line, not a traceback."""
  result = subprocess.run([sys.executable, os.path.join(cli.ROOT, "main.py"), *args,
                           f"--workdir={tmp_path / 'run'}"],
                          capture_output=True, text=True, cwd=cli.ROOT, env=cli.env(),
                          timeout=300)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == cli.error_lines(result), result.stderr
  assert len(cli.error_lines(result)) == 1 and message in result.stderr
  assert "Fix:" in result.stderr and not (tmp_path / "run").exists()


@pytest.mark.parametrize("sent, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_a_scheduler_s_sigterm_says_how_to_resume(tmp_path, sent, code):
  """Ctrl-C, or SIGTERM as a batch scheduler or a preempted cloud VM sends it:
  one line, and the lock released so the rerun (maybe on another host) starts."""
  process = subprocess.Popen(
      cli.command("--config.method=scratch", "--config.train.epochs=50",
                  "--config.checkpoint.every_steps=1", workdir=tmp_path),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cli.ROOT,
      env=cli.env(),
      # A shell's background job ignores SIGINT, and so would the child.
      preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
  deadline = time.time() + 300
  while not (tmp_path / "checkpoints" / "LATEST").exists() and time.time() < deadline:
    time.sleep(0.2)
  process.send_signal(sent)
  _, stderr = process.communicate(timeout=300)
  assert process.returncode == code, stderr[-1500:]
  said = "interrupted" if sent == signal.SIGINT else "terminated"
  assert f"{said}: the last checkpoint is kept; rerun the same command to resume" in stderr
  assert "Traceback" not in stderr
  assert not (tmp_path / ".lock").exists()  # released on the way out


def test_the_design_cards_command_says_how_to_prepare_stl10(tmp_path):
  """`python main.py --config=configs/stl10.py` without STL-10: the whole stderr
  is one line saying how to prepare it (the source is shipped, so nothing else
  is missing)."""
  result = subprocess.run(
      [sys.executable, "main.py", "--config=configs/stl10.py",
       f"--workdir={tmp_path / 'run'}", f"--config.data.data_dir={tmp_path}"],
      capture_output=True, text=True, cwd=cli.ROOT, env=cli.env(), timeout=300)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == cli.error_lines(result)
  assert len(cli.error_lines(result)) == 1
  assert "tfds build stl10" in result.stderr
  assert not (tmp_path / "run").exists()


def test_a_disk_that_fills_during_the_final_export_is_one_line_and_resumes(tmp_path):
  """Issue #25: ENOSPC while exporting ended in a traceback. The checkpoints
  are kept, so the same command, rerun once space is free, finishes the run."""
  workdir = tmp_path / "run"
  full = tmp_path / "sitecustomize_dir"
  full.mkdir()
  (full / "sitecustomize.py").write_text(
      "import errno, os\n"
      "from l2t_tf import export\n"
      "def serving_archive(*args, **kwargs):  # the SavedModel's write fails\n"
      "  raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), 'saved_model.pb')\n"
      "export.serving_archive = serving_archive\n")
  result = subprocess.run(cli.command("--config.method=scratch", workdir=workdir),
                          capture_output=True, text=True, cwd=cli.ROOT, timeout=600,
                          env=cli.env(PYTHONPATH=str(full)))
  assert result.returncode == 2, result.stderr[-2000:]
  assert cli.error_lines(result) == [l for l in result.stderr.splitlines()
                                     if l.startswith(("error:", "Traceback"))]
  assert "No space left on device" in result.stderr
  assert "then rerun the same command (it resumes)" in result.stderr
  assert (workdir / "checkpoints").is_dir() and not (workdir / "results.json").exists()
  again = cli.main("--config.method=scratch", workdir=workdir)
  assert again.returncode == 0, again.stderr[-2000:]
  assert (workdir / "results.json").exists() and (workdir / "export" / "target" / "1").is_dir()
