"""A tiny L2T-ww run leaves the four plots, TensorBoard meta summaries, and the
visualise mode rebuilds the same lambdas from its checkpoint."""
import glob
import json
import os

import pytest
import tensorflow as tf

import cli
from l2t_tf import analysis, visualise
from l2t_tf.reports import learned_transfer
from test_plots import assert_png_not_blank

PLOTS = ("matching.png", "lambda_over_training.png", "channel_weights.png",
         "saliency.png")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("l2t_ww")
  result = cli.main("--config.method=l2t_ww", "--config.train.epochs=2",
                    workdir=workdir)
  assert result.returncode == 0, result.stderr[-2000:]
  return workdir


def test_training_writes_the_four_plots(run_dir):
  for name in PLOTS:
    assert_png_not_blank(run_dir / "plots" / name)


def test_drawn_lambdas_equal_lambdas_json(run_dir):
  model, datasets, _ = visualise.load(str(run_dir))
  saved = json.loads((run_dir / "lambdas.json").read_text())
  trace = json.loads((run_dir / "meta_trace.json").read_text())
  recomputed = analysis.lambda_statistics(model, datasets.val)
  for label, values in saved.items():
    assert recomputed[label]["mean"] == pytest.approx(values["mean"], abs=1e-6)
  figures = learned_transfer.figures(model, datasets.val, trace)
  drawn = {t.get_gid(): t.get_text().split("\n")[0]
           for t in figures["matching.png"].axes[0].texts if t.get_gid()}
  assert drawn == {label: f"{v['mean']:.2f}" for label, v in saved.items()}
  assert sorted(trace) == ["1", "2"] and "train_lambda/1_1" in trace["2"]


def test_lambdas_json_reports_start_end_and_change(run_dir):
  saved = json.loads((run_dir / "lambdas.json").read_text())
  start = json.loads((run_dir / "meta_init.json").read_text())
  for label, values in saved.items():
    assert values["init"]["mean"] == pytest.approx(start[label]["mean"])
    assert values["final"]["mean"] == values["mean"]
    assert values["change"]["mean"] == pytest.approx(
        values["mean"] - values["init"]["mean"])
    assert values["entropy"] <= values["log_channels"] + 1e-6
  assert any(abs(v["change"]["mean"]) > 0 for v in saved.values())
  model, datasets, _ = visualise.load(str(run_dir))
  trace = json.loads((run_dir / "meta_trace.json").read_text())
  figures = learned_transfer.figures(model, datasets.val, trace, start)
  drawn = {t.get_gid(): t.get_text()
           for t in figures["matching.png"].axes[0].texts if t.get_gid()}
  label = next(iter(saved))
  assert drawn[label].startswith(f"{saved[label]['mean']:.2f}\n"
                                 f"{saved[label]['change']['mean']:+.2f}\nt ")
  markers = [l for ax in figures["lambda_over_training.png"].axes
             for l in ax.lines if (l.get_gid() or "").startswith("start_")]
  assert len(markers) == len(saved)
  assert markers[0].get_ydata()[0] == pytest.approx(
      saved[markers[0].get_gid()[len("start_"):]]["init"]["mean"])


def test_gradient_norms_are_in_the_history_and_per_pair_in_the_trace(run_dir):
  history = json.loads((run_dir / "results.json").read_text())["history"]
  assert len(history["grad_norm"]) == 2 and min(history["meta_grad_norm"]) > 0
  # Per-pair values stay off the console line and out of the history.
  assert not any("/" in k or k.startswith("lambda") for k in history)
  trace = json.loads((run_dir / "meta_trace.json").read_text())
  for name in ("meta_grad_norm", "hypergrad", "hypergrad_snr", "train_lambda"):
    assert f"{name}/1_1" in trace["1"]
  assert trace["1"]["meta_grad_norm/1_1"] >= 0
  assert any(v != 0 for k, v in trace["1"].items() if k.startswith("hypergrad/"))


def test_visualise_mode_writes_the_plots(run_dir, tmp_path):
  for name in PLOTS:
    os.remove(run_dir / "plots" / name)
  result = cli.main("--mode=visualise", workdir=run_dir, config=None)
  assert result.returncode == 0, result.stderr[-2000:]
  for name in PLOTS:
    assert f"wrote {run_dir}/plots/{name}" in result.stdout
    assert_png_not_blank(run_dir / "plots" / name)


def _tags(log_dir) -> dict:
  """{TensorBoard run (folder under logs): {tag: steps}} of a run's events."""
  runs = {}
  for path in glob.glob(str(log_dir / "**" / "events.*"), recursive=True):
    run = os.path.relpath(os.path.dirname(path), log_dir)
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        runs.setdefault(run, {}).setdefault(value.tag, set()).add(event.step)
  return runs


def test_tensorboard_runs_and_tags(run_dir):
  """What a user browses: one run per pair with the same tags (one chart per
  quantity, a line per pair), the test set as its own run, the config,
  hparams and figures in `run`."""
  runs = _tags(run_dir / "logs")
  pairs = {r for r in runs if r.startswith("meta/")}
  assert len(pairs) == 15 and "meta/1_1" in pairs and "meta/3_5" in pairs
  for pair in pairs:
    assert {"lambda", "lambda_mean", "lambda_change", "channel_weight_entropy",
            "entropy_gap", "meta_grad_norm", "hypergrad", "train_lambda"} <= set(
                runs[pair]), pair
    assert runs[pair]["lambda_mean"] == {0, 1}
  # Off the console line (callbacks.ConsoleLine), not out of TensorBoard:
  assert {"epoch_accuracy", "epoch_loss", "epoch_grad_norm",
          "epoch_meta_grad_norm", "epoch_loss_wfm"} <= set(runs["train"])
  assert {"epoch_accuracy", "epoch_loss"} <= set(runs["validation"])
  assert set(runs["test"]) == {"epoch_accuracy", "epoch_loss"}  # once, at the end
  assert {"config", "_hparams_/session_start_info"} <= set(runs["run"])
  assert {f"figures/{name[:-4]}" for name in PLOTS} <= set(runs["run"])
  assert not any(tag.startswith("epoch_test") for r in runs.values() for tag in r)


def test_visualise_a_scratch_run_is_a_clear_error(tmp_path):
  (tmp_path / "config.json").write_text(json.dumps({"method": "scratch"}))
  result = cli.main("--mode=visualise", workdir=tmp_path, config=None)
  assert result.returncode != 0
  assert "has no figures to redraw" in cli.error_lines(result)[0]
