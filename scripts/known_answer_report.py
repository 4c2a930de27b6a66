"""The verdict of known-answer runs (configs/known_answer_{where,what}.py).

  python scripts/known_answer_report.py runs/known_answer_where [MORE_WORKDIRS]

Reads each workdir's lambdas.json (start and end per pair) and config.json
and prints, for a decoy beside a real source, both sources' mean lambda
start -> end and the gap; for a noisy source, w's mass on the noise channels
(0.5 when uniform), also drawn per pair in WORKDIR/plots/noise_mass.png.
Thresholds: l2t_tf/analysis.py (DECOY_MARGIN, NOISE_MASS_MAX).
With meta_trace.json, also per source how many pairs' "where" meta-gradient
was significant over the run (|t| > 2; analysis.hypergradient_t): with none,
the change of lambda is noise.
"""
import math
import os
import sys

from l2t_tf import analysis, plots
from l2t_tf import workdir as workdir_lib


def _fmt(source: dict) -> str:
  return (f"{source['start']:.2f} -> {source['end']:.2f} "
          f"({source['dead']}/{source['pairs']} pairs at 0)")


def report(workdir: str) -> str:
  stats = workdir_lib.read_json(workdir, "lambdas.json")
  config = workdir_lib.read_json(workdir, workdir_lib.CONFIG)
  paths = config["transfer"]["source_paths"]
  summary = analysis.known_answer_summary(stats, paths)
  lines = [workdir]
  if "where" in summary:
    where = summary["where"]
    lines.append(f"  where: real {', '.join(map(_fmt, where['real']))}; decoy "
                 f"{', '.join(map(_fmt, where['decoy']))}; gap {where['gap']:+.2f} "
                 f"(needs >= {analysis.DECOY_MARGIN}): "
                 f"{'PASSED' if where['passed'] else 'not met'}")
  if "what" in summary:
    what = summary["what"]
    figure = plots.save(plots.noise_mass(what),
                        os.path.join(plots.output_dir(workdir), "noise_mass.png"))
    lines.append(f"  what: mass on noise channels {what['mean_start']:.3f} -> "
                 f"{what['mean_end']:.3f} (needs <= {analysis.NOISE_MASS_MAX}; "
                 f"pairs {min(m['end'] for m in what['pairs']):.3f}-"
                 f"{max(m['end'] for m in what['pairs']):.3f}): "
                 f"{'PASSED' if what['passed'] else 'not met'}; {figure}")
  trace = workdir_lib.read_json(workdir, workdir_lib.META_TRACE)
  if trace is not None:
    train_size = workdir_lib.read_json(
        workdir, workdir_lib.RESULTS)["data_sizes"]["train"]
    t = analysis.hypergradient_t(trace, math.ceil(
        train_size / config["train"]["batch_size"]))
    for k in sorted({stats[label]["source_network"] for label in t}):
      values = [v for label, v in t.items() if stats[label]["source_network"] == k]
      lines.append(f"  source {k} ({paths[k]}): {len(values)} pairs, "
                   f"{sum(v < -2 for v in values)} asked up (t < -2), "
                   f"{sum(v > 2 for v in values)} down (t > 2), "
                   f"mean t {sum(values) / len(values):+.2f}")
  if len(lines) == 1:
    lines.append("  no decoy: or noisy: source in this run")
  return "\n".join(lines)


if __name__ == "__main__":
  if len(sys.argv) < 2:
    sys.exit("usage: python scripts/known_answer_report.py WORKDIR [WORKDIR ...]")
  print("\n\n".join(report(w) for w in sys.argv[1:]))
