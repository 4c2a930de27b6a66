"""The reports of FM, L2T-w and L2T-ww: phi's start and per-epoch trace
(TensorBoard, meta_trace.json), lambdas.json and the four figures."""
import os

from l2t_tf import analysis, callbacks, plots
from l2t_tf import workdir as workdir_lib
from l2t_tf.reports import Reports, RunContext

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


class LearnedTransferReports(Reports):
  """MetaSummaries during training; lambdas.json and the figures at the end."""

  has_figures = True

  def callbacks(self, model, context: RunContext) -> list:
    return [callbacks.MetaSummaries(context.datasets.val,
                                    os.path.join(context.log_dir, "meta"),
                                    context.workdir, context.fresh, context.guard)]

  def write_outputs(self, model, context: RunContext) -> dict:
    val = context.datasets.val
    start = workdir_lib.read_json(context.workdir, workdir_lib.META_INIT)
    workdir_lib.write_json(context.workdir, "lambdas.json", analysis.with_start(
        analysis.lambda_statistics(model, val), start))
    write_plots(model, val, context.workdir)
    return {}

  def figures(self, model, datasets, workdir: str) -> list[str]:
    return write_plots(model, datasets.val, workdir)
