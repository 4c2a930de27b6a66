"""Crash safety: SIGKILL mid-epoch, rerun, and the result equals an uninterrupted run."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

import cli

# 80 training images in batches of 8: 10 steps per epoch, a checkpoint every 3.
RESUMABLE = ["--config.method=l2t_ww", "--config.data.images_per_class=40",
             "--config.train.epochs=2", "--config.deterministic=True",
             "--config.checkpoint.every_steps=3", "--config.export.enabled=False",
             "--verbosity=1"]  # debug lines: the target weights' fingerprint
SAME_RESULTS = ("val_accuracy", "test_accuracy", "best_epoch", "final", "history")


def _fingerprint(result_stderr: str) -> str:
  return re.search(r"target weights sha256 (\w+)", result_stderr).group(1)


def _results(workdir) -> dict:
  with open(os.path.join(workdir, "results.json")) as f:
    results = json.load(f)
  return {k: results[k] for k in SAME_RESULTS}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("uninterrupted")
  result = cli.main(*RESUMABLE, workdir=workdir)
  assert result.returncode == 0, result.stderr[-2000:]
  return workdir, _fingerprint(result.stderr)


def test_deterministic_runs_are_bitwise_identical(uninterrupted, tmp_path):
  workdir, fingerprint = uninterrupted
  result = cli.main(*RESUMABLE, workdir=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  assert _fingerprint(result.stderr) == fingerprint
  assert _results(tmp_path) == _results(workdir)


def _latest(workdir) -> str:
  try:
    with open(os.path.join(workdir, "checkpoints", "LATEST")) as f:
      return f.read().strip()
  except FileNotFoundError:
    return ""


@pytest.mark.parametrize("lose_latest", [False, True])
def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(uninterrupted, tmp_path,
                                                            lose_latest):
  """Also with checkpoints/LATEST lost: the newest complete checkpoint is found,
  nothing is overwritten or pruned before it."""
  workdir, fingerprint = uninterrupted
  process = subprocess.Popen(cli.command(*RESUMABLE, workdir=tmp_path), cwd=cli.ROOT,
                             env=cli.env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  # Kill as soon as a mid-epoch checkpoint of the second epoch is the newest
  # (global steps 13, 16, 19; 20 would be the end of training).
  deadline = time.time() + 300
  while time.time() < deadline and process.poll() is None:
    if re.fullmatch(r"ckpt-000000(1[1-9])", _latest(tmp_path)):
      process.send_signal(signal.SIGKILL)
      break
    time.sleep(0.02)
  assert process.wait() == -signal.SIGKILL, "the run ended before it was killed"
  assert not (tmp_path / "results.json").exists()
  # The newest folder: a kill between its publication and LATEST's update
  # leaves LATEST one behind, and the resume takes the newest complete one.
  killed_at = max(n for n in os.listdir(tmp_path / "checkpoints")
                  if n.startswith("ckpt-"))
  if lose_latest:
    os.remove(tmp_path / "checkpoints" / "LATEST")

  result = cli.main(*RESUMABLE, workdir=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  resumed = re.search(r"resuming from \S+/(ckpt-\d+) \(epoch (\d+), step (\d+)\)",
                      result.stderr)
  assert resumed and resumed.group(1) == killed_at
  assert resumed.group(2) == "1" and int(resumed.group(3)) > 0  # mid-epoch 2
  assert _fingerprint(result.stderr) == fingerprint
  assert _results(tmp_path) == _results(workdir)
