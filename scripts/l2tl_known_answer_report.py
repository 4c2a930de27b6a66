"""The verdict of L2TL's known answer (configs/l2tl_known_answer.py, l2tl_table.py).

  python scripts/l2tl_known_answer_report.py runs/l2tl_ka_table [MORE_WORKDIRS]

For each run (a workdir, or every run of a grid) that has policy_trace.json:
the mean E[lambda] of the digit and the garment classes at the start and the
end, how many of the final top-10 are digits (passes at 6:
analysis.L2TL_RELATED_MIN), and how many classes' lambda correlated with the
advantage beyond chance in the mean epoch (|t| > 2; about 1 of 20 by chance),
and each group's mean z of those t pooled over the run (analysis.pooled_signal;
a group whose lambda raises the reward has a mean z well above 0, the mean
of 10 independent N(0, 1) has a standard deviation of 0.32).
Per grid it also draws plots/policy_groups.png: the digits' and garments'
mean E[lambda] against the step, one line per run whose lambda was learned,
the start included.
"""
import os
import sys

from l2t_tf import console
console.quiet_tensorflow()  # before TensorFlow's import prints its start-up lines
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from l2t_tf import analysis, plots, storage  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf import workdir as workdir_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf.errors import UserError, one_line_errors  # pylint: disable=g-import-not-at-top,wrong-import-position


def _runs(workdir: str) -> list[str]:
  """The finished runs (their ranking written) under `workdir`, or itself."""
  if storage.exists(os.path.join(workdir, "source_class_weights.json")):
    return [workdir]
  return sorted(os.path.dirname(p) for p in storage.find(
      workdir, "*", "seed=*", "source_class_weights.json"))


def _read(run: str, name: str):
  return workdir_lib.read_json(run, name)


def _groups(trace: dict, names) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(steps, digits' mean E[lambda], garments' mean E[lambda]) per epoch."""
  epochs, steps = plots.trace_steps(trace)
  values = np.asarray([trace[e]["expected_lambda"] for e in epochs])
  digits = np.asarray([str(n).startswith("digit:") for n in names])
  return steps, values[:, digits].mean(1), values[:, ~digits].mean(1)


def report(workdir: str) -> str:
  lines, figure = [workdir], None
  runs = _runs(workdir)
  if not runs:
    raise UserError(f"{workdir} holds no finished L2TL run "
                    "(source_class_weights.json)", "pass the workdir of a "
                    "finished configs/l2tl_known_answer.py run or grid")
  if len(runs) > 1:
    figure, ax = plt.subplots(figsize=(7, 4))
  for run in runs:
    trace = _read(run, "policy_trace.json")
    names = [c["class"] for c in sorted(
        _read(run, "source_class_weights.json")["classes"], key=lambda c: c["label"])]
    verdict = analysis.l2tl_known_answer(trace, names)
    significant = verdict["significant_classes_per_epoch"]
    lines.append(
        f"  {os.path.relpath(run, workdir)}: digits {verdict['related_start']:.3f} -> "
        f"{verdict['related_end']:.3f}, garments {verdict['other_start']:.3f} -> "
        f"{verdict['other_end']:.3f}; digits in the top {verdict['top']}: "
        f"{verdict['related_in_top']} ("
        f"{'PASSED' if verdict['passed'] else 'not met' if verdict['learned'] else 'lambda not learned'}); "
        f"classes with |t| > 2 per epoch: mean "
        f"{np.mean(significant) if significant else float('nan'):.2f} of {len(names)}"
        + (f"; pooled z of lambda against the advantage: digits "
           f"{verdict['related_z']:+.2f}, garments {verdict['other_z']:+.2f}"
           if verdict["related_z"] is not None else ""))
    if figure is not None and verdict["learned"]:  # flat lines say nothing
      steps, digits, garments = _groups(trace, names)
      label = os.path.relpath(run, workdir)
      line, = ax.plot(steps, digits, label=f"{label}: digits")
      ax.plot(steps, garments, linestyle="--", color=line.get_color(),
              label=f"{label}: garments")
      ax.plot([0], [digits[0]], marker="o", fillstyle="none", color=line.get_color())
  if figure is not None:
    ax.set_xlabel("training step (o: the start)")
    ax.set_ylabel("mean E[lambda(y)]")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=6, ncol=2)
    ax.set_title("L2TL known answer: digits (solid) against garments (dashed)")
    lines.append("  " + plots.save(figure, os.path.join(plots.output_dir(workdir),
                                                        "policy_groups.png")))
  return "\n".join(lines)


@one_line_errors
def main(argv: list[str]) -> None:
  if len(argv) < 2:
    raise UserError("no WORKDIR given", "python scripts/l2tl_known_answer_report.py "
                    "WORKDIR [MORE]")
  for workdir in argv[1:]:
    print(report(workdir))


if __name__ == "__main__":
  main(sys.argv)
