"""L2TL's reports: the policy's trace per epoch, and at the end the source
classes ranked by it (JSON and plots), when it learns."""
import os

from l2t_tf import analysis, callbacks, plots
from l2t_tf import workdir as workdir_lib
from l2t_tf.reports import Reports, RunContext


class PolicyReports(Reports):
  """PolicyTrace during training; source_class_weights.json and two plots."""

  no_figures = ("its figures are written when training ends "
                "(plots/source_class_weights.png); finish the run by rerunning "
                "its training command")

  def callbacks(self, model, context: RunContext) -> list:
    if not model.learns_policy:
      return []
    return [callbacks.PolicyTrace(os.path.join(context.log_dir, "policy"),
                                  context.workdir)]

  def write_outputs(self, model, context: RunContext) -> dict:
    if not model.learns_policy:
      return {}
    ranking = analysis.source_class_ranking(model.policy, context.source_classes)
    workdir_lib.write_json(context.workdir, "source_class_weights.json", ranking)
    folder = plots.output_dir(context.workdir)
    plots.save(plots.source_class_weights(ranking),
               os.path.join(folder, "source_class_weights.png"))
    trace = workdir_lib.read_json(context.workdir, workdir_lib.POLICY_TRACE)
    if trace:
      plots.save(plots.policy_over_training(trace, context.source_classes),
                 os.path.join(folder, "policy_over_training.png"))
    return {"source_class_weights": ranking["classes"][:10]}
