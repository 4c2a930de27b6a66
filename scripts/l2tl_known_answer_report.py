"""The verdict of L2TL's known answer (configs/l2tl_known_answer.py, l2tl_table.py).

  python scripts/l2tl_known_answer_report.py runs/l2tl_table [MORE_WORKDIRS]

For each run (a workdir, or every run of a grid) that has policy_trace.json:
the mean E[lambda] of the helpful classes ('digit:') and of the others
('scrambled:' on the known answer, 'garment:' on the older task) at the
start and the end, how many of the final top-10 are digits, how many
classes' signal (lambda against the advantage, or the alignment estimator's
a_k) went beyond chance in the mean epoch (|t| > 2; about 1 of 20 by
chance), each group's mean z of those t pooled over the run
(analysis.pooled_signal; the mean of 10 independent N(0, 1) has a standard
deviation of 0.32) and the gap of the groups as a z. A run PASSES when its
policy learned, at least 6 of its top 10 are digits and the z gap is >= 3
(analysis.l2tl_known_answer); a variant of a grid passes when most of its
seeds do. Per grid it also draws plots/policy_groups.png: the two groups'
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


def _other_group(names) -> str:
  """What the classes other than the digits are called: their shared prefix."""
  prefixes = {str(n).split(":")[0] for n in names if not str(n).startswith("digit:")}
  return prefixes.pop() if len(prefixes) == 1 else "others"


def _groups(trace: dict, names) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(steps, digits' mean E[lambda], the others' mean E[lambda]) per epoch."""
  epochs, steps = plots.trace_steps(trace)
  values = np.asarray([trace[e]["expected_lambda"] for e in epochs])
  digits = np.asarray([str(n).startswith("digit:") for n in names])
  return steps, values[:, digits].mean(1), values[:, ~digits].mean(1)


def _verdict_word(verdict: dict) -> str:
  if verdict["passed"]:
    return "PASSED"
  return "not met" if verdict["learned"] else "lambda not learned"


def report(workdir: str) -> str:
  lines, figure = [workdir], None
  runs = _runs(workdir)
  if not runs:
    raise UserError(f"{workdir} holds no finished L2TL run "
                    "(source_class_weights.json)", "pass the workdir of a "
                    "finished configs/l2tl_known_answer.py run or grid")
  by_variant: dict = {}
  for run in runs:
    trace = _read(run, "policy_trace.json")
    names = [c["class"] for c in sorted(
        _read(run, "source_class_weights.json")["classes"], key=lambda c: c["label"])]
    other = _other_group(names)
    verdict = analysis.l2tl_known_answer(trace, names)
    label = os.path.relpath(run, workdir)
    by_variant.setdefault(os.path.dirname(label), []).append(verdict)
    significant = verdict["significant_classes_per_epoch"]
    lines.append(
        f"  {label}: digits {verdict['related_start']:.3f} -> "
        f"{verdict['related_end']:.3f}, {other} {verdict['other_start']:.3f} -> "
        f"{verdict['other_end']:.3f}; digits in the top {verdict['top']}: "
        f"{verdict['related_in_top']}; classes with |t| > 2 per epoch: mean "
        f"{np.mean(significant) if significant else float('nan'):.2f} of {len(names)}"
        + (f"; pooled z: digits {verdict['related_z']:+.2f}, {other} "
           f"{verdict['other_z']:+.2f}, gap {verdict['z_gap']:+.2f}"
           if verdict["related_z"] is not None else "")
        + f" ({_verdict_word(verdict)})")
    if len(runs) > 1 and verdict["learned"]:  # flat lines say nothing
      if figure is None:
        figure, ax = plt.subplots(figsize=(7, 4))
      steps, digits, others = _groups(trace, names)
      line, = ax.plot(steps, digits, label=f"{label}: digits")
      ax.plot(steps, others, linestyle="--", color=line.get_color(),
              label=f"{label}: {other}")
      ax.plot([0], [digits[0]], marker="o", fillstyle="none", color=line.get_color())
  if len(runs) > 1:
    for variant, verdicts in by_variant.items():
      passed = sum(v["passed"] for v in verdicts)
      gaps = [v["z_gap"] for v in verdicts if v["z_gap"] is not None]
      lines.append(f"  {variant or '.'}: passed in {passed} of {len(verdicts)} "
                   f"run(s)" + (f", mean z gap {np.mean(gaps):+.2f}" if gaps else "")
                   + (" -> PASSED" if 2 * passed > len(verdicts) else " -> not met"))
  if figure is not None:
    ax.set_xlabel("training step (o: the start)")
    ax.set_ylabel("mean E[lambda(y)]")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=6, ncol=2)
    ax.set_title(f"L2TL known answer: digits (solid) against {other} (dashed)")
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
