"""Issue #24's estimator shoot-out: how much signal each meta-gradient carries at fixed theta.

  python scripts/estimator_shootout.py WORKDIR [--batches=30] [--epochs=3,10,20,30]
      [--estimators=lookahead,heldout_lookahead,alignment] [--lookahead_lr=0.1]

WORKDIR is an L2T-ww run with a held-out meta set (data.meta_per_class > 0)
whose checkpoints were kept (checkpoint.keep), best with phi frozen
(transfer.freeze_meta=True) so theta is the only thing that changes between
checkpoints; `configs/estimator_shootout.py` writes such runs. Nothing is
trained here. For every kept checkpoint and every estimator, over `batches`
training batches of that checkpoint's epoch (its own augmentation):

- per pair, the "where" meta-gradient (> 0 asks lambda down): its signal to
  noise |mean| / std over the batches, and t = mean / (std / sqrt(n));
- with a decoy source: the decoy-minus-real gap of the where meta-gradient,
  each pair scaled by its RMS over the batches (> 0: the known answer's sign,
  the decoy's lambda asked down more than the real source's), and its t;
- with a noisy source: the noise-minus-real gap of the "what" bias
  meta-gradient (> 0: the noise channels' weight asked down), and its t;
- Spearman's rank correlation of the per-pair means with the paper's estimator;
- seconds per estimate (traced, after one warm-up call).

Writes WORKDIR/shootout.json (shootout_lookahead_lr=X.json with
--lookahead_lr) and prints one table.
"""
import json
import os
import sys
import time

from absl import app, flags
import ml_collections
import numpy as np
import tensorflow as tf

from l2t_tf import checkpoints, methods, storage
from l2t_tf import workdir as workdir_lib
from l2t_tf.data import pipeline
from l2t_tf.errors import UserError, one_line_errors
from l2t_tf.models import known_answer
from l2t_tf.trainers.l2t_ww import META_OBJECTIVES

_BATCHES = flags.DEFINE_integer("batches", 30, "Training batches per checkpoint.")
_EPOCHS = flags.DEFINE_list("epochs", ["3", "10", "20", "30"],
                            "Checkpoints: the ends of these epochs.")
_ESTIMATORS = flags.DEFINE_list("estimators", list(META_OBJECTIVES),
                                "Meta-objectives to compare.")
_LOOKAHEAD_LR = flags.DEFINE_float(
    "lookahead_lr", 0.0, "The look-ahead's step size (transfer.lookahead_lr); "
    "0: each checkpoint's own decayed training rate, the paper's.")


def _load(workdir: str):
  """(config, datasets, model) of the run in `workdir`, its model not yet restored."""
  saved = workdir_lib.read_json(workdir, workdir_lib.CONFIG)
  if saved is None:
    raise UserError(f"{workdir} has no {workdir_lib.CONFIG}, so it holds no run",
                    "pass the workdir of an L2T-ww run")
  config = ml_collections.ConfigDict(workdir_lib.upgrade_config(saved))
  if config.method not in methods.METHODS or not config.data.get("meta_per_class"):
    raise UserError(f"{workdir} is not an fm/l2t_w/l2t_ww run with a meta set "
                    "(data.meta_per_class)", "run configs/estimator_shootout.py "
                    "first and pass its workdir")
  datasets = pipeline.build_datasets(config.data, config.train.batch_size,
                                     seed=config.seed)
  with config.unlocked():  # build every estimator's inputs (the meta set)
    config.transfer.meta_objective = "alignment"
  model, _ = methods.build_for_data(config, datasets, jit_compile=False)
  return config, datasets, model


def _gradients(model, objective: str):
  """A traced function batch -> (where [pairs], what bias per pair) of `objective`."""
  names = [v.name for v in model.meta_networks.trainable_variables]

  @tf.function
  def estimate(images, labels, learning_rate):
    model.objective = objective
    source_maps, pooled = model.source_features(images)
    return model.estimate(images, labels, source_maps, pooled, learning_rate)

  def run(images, labels, learning_rate):
    grads = [np.asarray(g) for g in estimate(images, labels, learning_rate)]
    by_name = dict(zip(names, grads))
    pairs = len(model.pairs)
    where = np.array([by_name.get(f"where_bias_{p}", np.zeros(1)).sum()
                      for p in range(pairs)])
    what = [by_name.get(f"what_bias_{p}") for p in range(pairs)]
    return where, what
  return run


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
  ranks = [np.argsort(np.argsort(x)).astype(float) for x in (a, b)]
  return float(np.corrcoef(*ranks)[0, 1]) if len(a) > 2 else float("nan")


def _t(values: np.ndarray) -> float:
  values = np.asarray(values, np.float64)
  return float(values.mean() / (values.std(ddof=1) / np.sqrt(len(values)) + 1e-30))


def measure(workdir: str, batches: int, estimators, epochs) -> dict:
  """{checkpoint: {estimator: statistics}} (see the module docstring)."""
  config, datasets, model = _load(workdir)
  paths = list(config.transfer.source_paths)
  network = np.array([p.source.network for p in model.pairs])
  decoy = np.isin(network, [k for k, p in enumerate(paths)
                            if p.startswith(known_answer.WEIGHED_DOWN)])
  noisy = np.isin(network, [k for k, p in enumerate(paths)
                            if p.startswith(known_answer.NOISY)])
  real = ~decoy & ~noisy
  functions = {name: _gradients(model, name) for name in estimators}
  checkpointer = checkpoints.Checkpointer(workdir)
  variables = checkpoints.training_variables(model)
  results = {}
  for name in checkpointer.complete():
    path = os.path.join(checkpointer.directory, name)
    state = json.loads(storage.read_text(os.path.join(path, "state.json")))
    epoch = state["epoch"]
    if state["step"] or epoch not in epochs:
      continue
    checkpointer.restore(variables, path, extra_ok=True)  # not the best-epoch copy
    learning_rate = _LOOKAHEAD_LR.value or float(model.optimizer.learning_rate)
    stream = [b for b in datasets.train_from(epoch, 0, epoch + 1)
              if len(b[1]) == config.train.batch_size]
    stream = (stream * (-(-batches // max(1, len(stream)))))[:batches]
    if not stream:
      raise UserError(f"{workdir}'s training set is smaller than one batch",
                      "use a run with more training images")
    entry = {}
    for estimator, function in functions.items():
      function(*stream[0], learning_rate)  # trace
      start, where, what = time.time(), [], []
      for images, labels in stream:
        w, v = function(images, labels, learning_rate)
        where.append(w)
        what.append(v)
      seconds = (time.time() - start) / len(stream)
      where = np.array(where)  # [batches, pairs]
      mean, std = where.mean(0), where.std(0, ddof=1) + 1e-30
      stats = {"seconds": seconds, "where_mean": mean.tolist(),
               "where_snr": (np.abs(mean) / std).tolist(),
               "where_t": (mean / (std / np.sqrt(len(where)))).tolist()}
      scaled = where / np.sqrt((where ** 2).mean(0) + 1e-30)
      if decoy.any() and real.any():
        gap = scaled[:, decoy].mean(1) - scaled[:, real].mean(1)
        stats["decoy_gap"], stats["decoy_gap_t"] = float(gap.mean()), _t(gap)
      if noisy.any():
        gaps = []
        for p in np.flatnonzero(noisy):
          g = np.array([v[p] for v in what])  # [batches, channels]
          half = g.shape[1] // 2
          gap = g[:, half:].mean(1) - g[:, :half].mean(1)
          gaps.append(gap / (np.sqrt((gap ** 2).mean()) + 1e-30))
        gap = np.mean(gaps, axis=0)
        stats["noise_gap"], stats["noise_gap_t"] = float(gap.mean()), _t(gap)
      entry[estimator] = stats
    if "lookahead" in entry:
      for stats in entry.values():
        stats["spearman_vs_paper"] = _spearman(np.array(stats["where_mean"]),
                                               np.array(entry["lookahead"]["where_mean"]))
    results[f"{name} (epoch {epoch})"] = entry
    print(f"{name}: epoch {epoch}, {len(stream)} batches", file=sys.stderr, flush=True)
  return results


def table(results: dict) -> str:
  """One line per checkpoint and estimator."""
  lines = ["checkpoint | estimator | median SNR | pairs |t|>=3 | decoy gap (t) | "
           "noise gap (t) | Spearman vs paper | s per estimate",
           "---|---|---|---|---|---|---|---"]
  for checkpoint, entry in results.items():
    for estimator, s in entry.items():
      decoy = (f"{s['decoy_gap']:+.2f} ({s['decoy_gap_t']:+.1f})"
               if "decoy_gap" in s else "-")
      noise = (f"{s['noise_gap']:+.2f} ({s['noise_gap_t']:+.1f})"
               if "noise_gap" in s else "-")
      lines.append(f"{checkpoint} | {estimator} | {np.median(s['where_snr']):.3f} | "
                   f"{sum(abs(t) >= 3 for t in s['where_t'])}/{len(s['where_t'])} | "
                   f"{decoy} | {noise} | {s.get('spearman_vs_paper', float('nan')):+.2f} | "
                   f"{s['seconds']:.3f}")
  return "\n".join(lines)


@one_line_errors
def main(argv):
  if len(argv) != 2:
    raise UserError("expected one WORKDIR", "python scripts/estimator_shootout.py "
                    "WORKDIR [--batches=30]")
  unknown = sorted(set(_ESTIMATORS.value) - set(META_OBJECTIVES))
  if unknown or _BATCHES.value < 2 or _LOOKAHEAD_LR.value < 0:
    raise UserError(f"--estimators {unknown} unknown, --batches below 2 or "
                    "--lookahead_lr negative", f"choose among "
                    f"{list(META_OBJECTIVES)}, --batches >= 2, --lookahead_lr >= 0")
  workdir = argv[1]
  results = measure(workdir, _BATCHES.value, _ESTIMATORS.value,
                    {int(e) for e in _EPOCHS.value})
  if not results:
    raise UserError(f"{workdir} has no complete checkpoint",
                    "train it first (configs/estimator_shootout.py)")
  name = (f"shootout_lookahead_lr={_LOOKAHEAD_LR.value:g}.json"
          if _LOOKAHEAD_LR.value else "shootout.json")
  storage.write(os.path.join(workdir, name), json.dumps(results, indent=1))
  print(table(results))


if __name__ == "__main__":
  app.run(main)
