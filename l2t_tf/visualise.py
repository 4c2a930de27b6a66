"""main.py --mode=visualise: redraws a run's figures from its workdir.

Rebuilds the model from the workdir's config.json and its newest checkpoint,
so it works on any finished or interrupted run; the figures themselves are
the method's reports (l2t_tf/reports/).
"""
import ml_collections

from l2t_tf import checkpoints, methods
from l2t_tf import workdir as workdir_lib
from l2t_tf.data import pipeline
from l2t_tf.errors import UserError


def load(workdir: str):
  """(model, datasets, history) rebuilt from the workdir's config and newest checkpoint."""
  name = workdir_lib.require(workdir, workdir_lib.CONFIG, ("method",))["method"]
  method = methods.get(name)
  if not method.reports.has_figures:
    raise UserError(f"{workdir} ran '{name}', which has no figures to redraw",
                    method.reports.no_figures)
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
  """Rebuilds the run in `workdir`, then redraws its figures."""
  model, datasets, _ = load(workdir)
  name = workdir_lib.require(workdir, workdir_lib.CONFIG, ("method",))["method"]
  return methods.get(name).reports.figures(model, datasets, workdir)
