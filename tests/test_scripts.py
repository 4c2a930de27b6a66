"""The scripts as users run them: their output, and one error line on bad input."""
import hashlib
import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import cli
import tiny
from configs import quickstart
from l2t_tf.data import sources

SUBSET = os.path.join(cli.ROOT, "scripts", "make_embedded_subset.py")


def _subset(*args):
  return subprocess.run([sys.executable, SUBSET, *args], capture_output=True,
                        text=True, cwd=cli.ROOT, env=cli.env(), timeout=300)


def _smoke_run(config: str, workdir, *flags):
  """main.py on `configs/<config>` ('name.py:task') at its SMOKE settings."""
  module = importlib.import_module(f"configs.{config.split('.py')[0]}")
  smoke = [f"--config.{field}={value}".replace(" ", "")  # beyond cli.TINY
           for field, value in module.SMOKE.items() if field not in quickstart.SMOKE]
  return cli.main(*smoke, *flags, workdir=workdir,
                  config=os.path.join(cli.ROOT, "configs", config))


def _script(name: str, *args, timeout: int = 300):
  return subprocess.run([sys.executable, os.path.join(cli.ROOT, "scripts", name),
                         *args], capture_output=True, text=True, cwd=cli.ROOT,
                        env=cli.env(), timeout=timeout)


def _digest(path) -> str:
  with open(path, "rb") as f:
    return hashlib.sha256(f.read()).hexdigest()


def test_make_embedded_subset_writes_only_where_it_is_told(tmp_path):
  idx = tiny.idx_dataset(tmp_path, train=60, test=40)
  out = tmp_path / "subset.npz"
  result = _subset(f"--idx_dir={idx}", f"--out={out}", "--train_per_class=3",
                   "--test_per_class=2")
  assert result.returncode == 0, result.stderr[-2000:]
  with np.load(out) as data:
    assert data["train_images"].shape == (30, 28, 28)
    assert np.bincount(data["test_labels"]).tolist() == [2] * 10


@pytest.mark.parametrize("args, message", [
    ([], "--out is required"),
    ([f"--out={sources.EMBEDDED_PATH}"], "exists"),
    (["--out=OUT", "--train_per_class=0"], "--train_per_class must be at least 1"),
    (["--out=OUT", "--test_per_class=-5"], "--test_per_class must be at least 1"),
    (["--out=OUT", "--idx_dir=/nonexistent"], "is not a folder"),
])
def test_make_embedded_subset_bad_input_is_one_line_and_writes_nothing(
    tmp_path, args, message):
  shipped = _digest(sources.EMBEDDED_PATH)
  args = [a.replace("OUT", str(tmp_path / "x.npz")) for a in args]
  result = _subset(f"--idx_dir={tiny.idx_dataset(tmp_path)}", *args)
  assert result.returncode == 2
  lines = cli.error_lines(result)
  assert len(lines) == 1 and message in lines[0], result.stderr[-2000:]
  assert _digest(sources.EMBEDDED_PATH) == shipped
  assert not (tmp_path / "x.npz").exists()


@pytest.mark.slow
def test_the_verdict_grid_and_its_known_answer_report(tmp_path):
  """configs/known_answer_verdict.py's four arms run; the report sums them up."""
  workdir = tmp_path / "verdict"
  result = _smoke_run("known_answer_verdict.py:where", workdir)
  assert result.returncode == 0, result.stderr[-3000:]
  runs = sorted(str(p.parent) for p in workdir.glob("*/seed=0/results.json"))
  assert [os.path.basename(os.path.dirname(r)) for r in runs] == [
      "frozen", "frozen_+_meta_set", "learned", "placebo"]
  report = _script("known_answer_report.py", *runs)
  assert report.returncode == 0, report.stderr[-3000:]
  summary = report.stdout.split("summary")[1].splitlines()[1:]
  assert len(summary) == 4 and all(" where: PASSED in " in l for l in summary)
  # One epoch of a frozen phi moves nothing: its gap is exactly zero.
  frozen = next(l for l in summary if "/frozen where" in l)
  assert "values +0.000;" in frozen and "PASSED in 0 of 1" in frozen


@pytest.mark.parametrize("script", ["grid_report.py", "l2tl_known_answer_report.py",
                                    "known_answer_report.py"])
def test_a_report_on_a_folder_without_runs_is_one_line(tmp_path, script):
  result = _script(script, str(tmp_path))
  assert result.returncode == 2, result.stderr[-2000:]
  assert cli.error_lines(result) == result.stderr.strip().splitlines()
  assert "holds no" in result.stderr and "Fix:" in result.stderr


def test_runtime_estimate_refuses_a_throughput_of_zero():
  result = _script("runtime_estimate.py", "--tflops=0")
  assert result.returncode == 2
  assert cli.error_lines(result) == ["error: --tflops must be positive, got 0.0. "
                                     "Fix: pass e.g. --tflops=10.0"]


@pytest.mark.slow
def test_the_strength_known_answer_is_reported(tmp_path):
  """One plain source: the report judges the mean lambda's fall (strength)."""
  workdir = tmp_path / "strength"
  result = _smoke_run("known_answer_verdict.py:strength", workdir,
                      "--config.grid.variants=(('learned',()),)")
  assert result.returncode == 0, result.stderr[-3000:]
  report = _script("known_answer_report.py", str(workdir / "learned" / "seed=0"))
  assert report.returncode == 0, report.stderr[-3000:]
  assert "strength (one source, beta 1.0): mean lambda change" in report.stdout
  assert "needs a fall of >= 0.1 and t >= 3" in report.stdout


@pytest.mark.slow
def test_the_l2tl_known_answer_report_judges_ranking_and_signal(tmp_path):
  """A short alignment run on the known answer: the report gives both groups'
  E[lambda], the top-10 count and the pooled z with its gap."""
  from configs import common, l2tl_known_answer  # pylint: disable=g-import-not-at-top
  from l2t_tf import train  # pylint: disable=g-import-not-at-top
  config = common.with_overrides(l2tl_known_answer.get_config(),
                                 l2tl_known_answer.SMOKE)
  train.run(config, str(tmp_path / "run"))
  result = _script("l2tl_known_answer_report.py", str(tmp_path / "run"))
  assert result.returncode == 0, result.stderr[-2000:]
  line = result.stdout.splitlines()[1]
  assert "digits 0.500 -> " in line and "scrambled 0.500 -> " in line, line
  assert "digits in the top 10:" in line and "pooled z: digits" in line, line
  assert line.endswith(("(PASSED)", "(not met)")), line


@pytest.mark.slow
def test_the_estimator_shootout_reads_a_frozen_runs_checkpoints(tmp_path):
  """Checkpoints carry the best epoch's weights too; the shoot-out reads past them."""
  workdir = tmp_path / "frozen"
  result = _smoke_run("estimator_shootout.py:harmful", workdir)
  assert result.returncode == 0, result.stderr[-3000:]
  shootout = _script("estimator_shootout.py", str(workdir), "--epochs=1",
                     "--batches=2", "--estimators=alignment,lookahead",
                     "--lookahead_lr=0.1", timeout=600)
  assert shootout.returncode == 0, shootout.stderr[-3000:]
  assert (workdir / "shootout_lookahead_lr=0.1.json").exists()
  assert "alignment" in shootout.stdout and "lookahead" in shootout.stdout
