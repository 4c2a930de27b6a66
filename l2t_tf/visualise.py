"""Writes the plots of what an L2T-ww run transferred to <workdir>/plots/.

`write_plots` runs at the end of training; `run(workdir)` (main.py
--mode=visualise) rebuilds the model from the workdir's config.json and its
newest checkpoint, so it works on any finished or interrupted run.
"""
import os

import ml_collections

from l2t_tf import analysis, checkpoints, methods, plots
from l2t_tf import workdir as workdir_lib
from l2t_tf.data import pipeline
from l2t_tf.errors import UserError

SAMPLES = 4  # validation images in the saliency figure


def figures(model, val_dataset, trace: dict, start: dict | None = None) -> dict:
  """The four figures of issue #6, from the model's meta-networks on validation.

  `trace`: lambda per epoch (meta_trace.json); `start`: lambda statistics at
  step 0 (meta_init.json), marked in the plots.
  """
  outputs = analysis.meta_outputs(model, val_dataset)  # one pass for both uses
  stats = analysis.with_start(
      analysis.lambda_statistics(model, val_dataset, outputs), start)
  images = next(iter(val_dataset))[0].numpy()[:SAMPLES]
  learned = analysis.saliency(model, images, uniform=False)
  uniform = analysis.saliency(model, images, uniform=True)
  significance = {label: v["t"] for label, v in
                  analysis.scaled_hypergradient_t(trace).items()}
  return {
      "matching.png": plots.matching(stats, significance),
      "lambda_over_training.png": plots.lambda_over_training(trace, stats),
      "channel_weights.png": plots.channel_weights(stats),
      "saliency.png": plots.saliency_maps(images, learned, uniform),
  }


def write_plots(model, val_dataset, workdir: str) -> list[str]:
  """Saves `figures` as PNGs in <workdir>/plots/ and returns their paths."""
  folder = plots.output_dir(workdir)
  start = workdir_lib.read_json(workdir, workdir_lib.META_INIT)
  trace = workdir_lib.read_json(workdir, workdir_lib.META_TRACE) or {}
  return [plots.save(figure, os.path.join(folder, name))
          for name, figure in figures(model, val_dataset, trace, start).items()]


def load(workdir: str):
  """(model, datasets, history) rebuilt from the workdir's config and newest checkpoint."""
  method = workdir_lib.require(workdir, workdir_lib.CONFIG, ("method",))["method"]
  if method == "l2tl":
    raise UserError(f"{workdir} ran l2tl, whose figure is written when training "
                    "ends (plots/source_class_weights.png)",
                    "finish the run by rerunning its training command")
  if method not in methods.METHODS:  # scratch, finetune, the hand-crafted
    raise UserError(f"{workdir} ran '{method}', which transfers nothing to "
                    "plot", "pass the workdir of an fm, l2t_w or l2t_ww run")
  config = ml_collections.ConfigDict(workdir_lib.upgrade_config(workdir_lib.require(
      workdir, workdir_lib.CONFIG, ("seed", "data", "train", "model", "transfer"))))
  checkpointer = checkpoints.Checkpointer(workdir)
  checkpoint = checkpointer.latest()
  if checkpoint is None:
    raise UserError(f"{workdir} has no checkpoint yet",
                    "train for at least one epoch first")
  datasets = pipeline.build_datasets(config.data, config.train.batch_size,
                                     seed=config.seed)
  model, _ = methods.build_for_data(config, datasets, jit_compile=False)
  state = checkpointer.restore(checkpoints.training_variables(model), checkpoint,
                               extra_ok=True)  # the best epoch's weights: unused
  return model, datasets, state["history"]


def run(workdir: str) -> list[str]:
  """main.py --mode=visualise: rebuilds the run in `workdir`, then plots."""
  model, datasets, _ = load(workdir)
  return write_plots(model, datasets.val, workdir)
