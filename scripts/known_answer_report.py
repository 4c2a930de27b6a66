"""The verdict of known-answer runs (configs/known_answer_{where,what}.py).

  python scripts/known_answer_report.py runs/known_answer_where [MORE_WORKDIRS]
  python scripts/known_answer_report.py runs/verdict_where/*/seed=*

With several workdirs it ends with a summary per grid variant (the folder
above seed=N): in how many runs each known answer PASSED.

Reads each workdir's lambdas.json (start and end per pair) and config.json
and prints, for a decoy beside a real source, both sources' mean lambda
start -> end and the gap; for a noisy source, w's mass on the noise channels
(0.5 when uniform), also drawn per pair in WORKDIR/plots/noise_mass.png.
Thresholds: l2t_tf/analysis.py (DECOY_MARGIN, NOISE_MASS_MAX).
A verdict is PASSED only when its threshold is met and the meta-gradient
asked for it consistently: for "where", the decoy-minus-real gap of the
RMS-scaled meta-gradient has t >= 3 over the epochs (analysis.decoy_gap_t);
for "what", the per-epoch changes of the noise mass have t <= -3
(analysis.noise_mass_trend); for "strength" (one plain source at a beta
that hurts, configs/known_answer_verdict.py:strength), the mean lambda falls
by >= analysis.STRENGTH_FALL and the pairs' mean RMS-scaled t is >= 3. Also
per source, its mean lambda and how many pairs' RMS-scaled "where"
meta-gradient is significant (|t| >= 3; analysis.scaled_hypergradient_t).
"""
import os
import sys

from l2t_tf import console
console.quiet_tensorflow()  # before TensorFlow's import prints its start-up lines
from l2t_tf import analysis, plots  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf import workdir as workdir_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf.errors import UserError, one_line_errors  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf.models import known_answer  # pylint: disable=g-import-not-at-top,wrong-import-position


def _fmt(source: dict) -> str:
  return (f"{source['start']:.2f} -> {source['end']:.2f} "
          f"({source['dead']}/{source['pairs']} pairs at 0)")


def report(workdir: str) -> tuple[str, dict]:
  """The run's lines, and per known answer (where, what) its value, t and verdict."""
  stats = workdir_lib.read_json(workdir, "lambdas.json")
  config = workdir_lib.read_json(workdir, workdir_lib.CONFIG)
  if stats is None or config is None:
    raise UserError(f"{workdir} holds no finished fm/l2t_w/l2t_ww run "
                    "(lambdas.json, config.json)", "pass the workdir of a finished "
                    "configs/known_answer_*.py run")
  paths = config["transfer"]["source_paths"]
  summary = analysis.known_answer_summary(stats, paths)
  trace = workdir_lib.read_json(workdir, workdir_lib.META_TRACE) or {}
  by_source = {}
  for label, entry in stats.items():
    by_source.setdefault(entry["source_network"], []).append(label)
  lines, verdicts = [workdir], {}
  if "where" in summary:
    where = summary["where"]
    decoys = [k for k, p in enumerate(paths) if p.startswith(known_answer.WEIGHED_DOWN)]
    gap = analysis.decoy_gap_t(
        trace, [l for k in decoys for l in by_source.get(k, [])],
        [l for k, p in enumerate(paths) if k not in decoys
         for l in by_source.get(k, [])])
    passed = where["passed"] and gap["t"] >= analysis.SIGNIFICANT_T
    verdicts["where"] = (where["gap"], gap["t"], passed)
    lines.append(f"  where: real {', '.join(map(_fmt, where['real']))}; decoy "
                 f"{', '.join(map(_fmt, where['decoy']))}; gap {where['gap']:+.2f} "
                 f"(needs >= {analysis.DECOY_MARGIN}); decoy-minus-real "
                 f"meta-gradient t {gap['t']:+.1f} over {gap['epochs']} epochs "
                 f"(needs >= {analysis.SIGNIFICANT_T:.0f}), {gap['positive']} of "
                 f"them asking the decoy down more (sign test p {gap['sign_p']:.3f}): "
                 f"{'PASSED' if passed else 'not met'}")
  if "what" in summary:
    what = summary["what"]
    noisy = [k for k, p in enumerate(paths) if p.startswith(known_answer.NOISY)]
    trend = analysis.noise_mass_trend(
        trace, [l for k in noisy for l in by_source.get(k, [])], what["mean_start"])
    passed = what["passed"] and -trend["t"] >= analysis.SIGNIFICANT_T
    verdicts["what"] = (what["mean_end"] - what["mean_start"], trend["t"], passed)
    figure = plots.save(plots.noise_mass(what),
                        os.path.join(plots.output_dir(workdir), "noise_mass.png"))
    lines.append(f"  what: mass on noise channels {what['mean_start']:.3f} -> "
                 f"{what['mean_end']:.3f} (needs <= {analysis.NOISE_MASS_MAX}; "
                 f"pairs {min(m['end'] for m in what['pairs']):.3f}-"
                 f"{max(m['end'] for m in what['pairs']):.3f}); per-epoch change "
                 f"t {trend['t']:+.1f} (needs <= -{analysis.SIGNIFICANT_T:.0f}), "
                 f"{trend['negative']} of {trend['epochs']} epochs down (sign test "
                 f"p {trend['sign_p']:.3f}): {'PASSED' if passed else 'not met'}; {figure}")
  scaled = analysis.scaled_hypergradient_t(trace)
  for k in sorted({stats[label]["source_network"] for label in scaled}):
    labels = [label for label in scaled if stats[label]["source_network"] == k]
    values = [scaled[label]["t"] for label in labels]
    start = sum(stats[l]["init"]["mean"] for l in labels) / len(labels)
    end = sum(stats[l]["final"]["mean"] for l in labels) / len(labels)
    lines.append(f"  source {k} ({paths[k]}): {len(values)} pairs, mean lambda "
                 f"{start:.2f} -> {end:.2f}; RMS-scaled t: "
                 f"{sum(v <= -3 for v in values)} asked up (t <= -3), "
                 f"{sum(v >= 3 for v in values)} down (t >= 3), "
                 f"mean t {sum(values) / len(values):+.2f}")
    if len(paths) == 1 and not summary:  # one plain source: the strength answer
      verdicts["strength"] = (end - start, sum(values) / len(values),
                              start - end >= analysis.STRENGTH_FALL
                              and sum(values) / len(values) >= analysis.SIGNIFICANT_T)
  if len(lines) == 1:
    lines.append("  no decoy:, harmful: or noisy: source in this run")
  elif "strength" in verdicts:
    lines.append(f"  strength (one source, beta {config['transfer']['beta']}): mean "
                 f"lambda change {verdicts['strength'][0]:+.3f}, asked down with "
                 f"mean t {verdicts['strength'][1]:+.2f} (needs a fall of >= "
                 f"{analysis.STRENGTH_FALL} and t >= {analysis.SIGNIFICANT_T:.0f}): "
                 f"{'PASSED' if verdicts['strength'][2] else 'not met'}")
  return "\n".join(lines), verdicts


def summary(verdicts: dict) -> str:
  """Per group of runs (a grid's variant: the folder above seed=N), the verdicts."""
  groups = {}
  for workdir, found in verdicts.items():
    parent, name = os.path.split(os.path.normpath(workdir))
    group = parent if name.startswith("seed=") else workdir
    for answer, value in found.items():
      groups.setdefault((group, answer), []).append(value)
  lines = ["summary (value: decoy gap for where, change of the noise mass for "
           "what, change of the mean lambda for strength)"]
  for (group, answer), values in sorted(groups.items()):
    lines.append(f"  {group} {answer}: PASSED in {sum(v[2] for v in values)} of "
                 f"{len(values)}; values {' '.join(f'{v[0]:+.3f}' for v in values)}; "
                 f"t {' '.join(f'{v[1]:+.1f}' for v in values)}")
  return "\n".join(lines)


@one_line_errors
def main(argv):
  if len(argv) < 2:
    raise UserError("no WORKDIR given", "python scripts/known_answer_report.py "
                    "WORKDIR [WORKDIR ...]")
  reports = {w: report(w) for w in argv[1:]}
  print("\n\n".join(text for text, _ in reports.values()))
  if len(reports) > 1:
    print("\n" + summary({w: found for w, (_, found) in reports.items()}))


if __name__ == "__main__":
  main(sys.argv)
