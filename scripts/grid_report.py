"""Per-seed table, collapse counts and paired differences of a grid's runs.

  python scripts/grid_report.py runs/robustness
  python scripts/grid_report.py runs/recipe_ablation
  python scripts/grid_report.py runs/learned_vs_frozen \
      --paired L2T-ww_all-to-all L2T-ww_all-to-all_phi_frozen

Reads every `<variant>[/<column>=<value>]/seed=<n>/results.json` under the
grid's workdir (finished runs only, so a partly run grid can be reported;
folders may be links to identical runs of another grid). Rows are grouped so
that each group has a scratch row: by column value when a variant is scratch
(learned_vs_frozen.py), else by variant when the column is the method
(recipe_ablation.py), else by the recipe that ends a `<method>_<recipe>`
variant (robustness.py). Per row: mean +- std of test accuracy over seeds,
each seed's value, and the collapsed runs: more than 10 points below the
group's scratch mean, and below the best group's scratch mean minus 10.
`--paired A B`: per group, the per-seed differences A - B.
"""
import argparse
import collections
import os
import statistics
import sys

from l2t_tf import console
console.quiet_tensorflow()  # before TensorFlow's import prints its start-up lines
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from l2t_tf import workdir as workdir_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf.errors import UserError, one_line_errors  # pylint: disable=g-import-not-at-top,wrong-import-position

METHODS = ("scratch", "FM_one-to-one", "L2T-w_one-to-one", "L2T-ww_all-to-all")


def collect(workdir: str) -> dict:
  """(group, row) -> {seed: test accuracy in %}."""
  found = []
  for folder, _, files in tf.io.gfile.walk(workdir):  # follows links
    name = os.path.basename(folder)
    if "results.json" in files and name.startswith("seed="):
      accuracy = 100 * workdir_lib.read_json(folder, "results.json")["test_accuracy"]
      parts = os.path.relpath(os.path.dirname(folder), workdir).split(os.sep)
      found.append((parts, int(name.split("=")[1]), accuracy))
  by_column = any("scratch" in parts[0] for parts, _, _ in found)
  runs = collections.defaultdict(dict)
  for parts, seed, accuracy in found:
    if len(parts) == 2:
      column = parts[1].split("=", 1)[1]
      key = (column, parts[0]) if by_column else (parts[0], column)
    else:
      method = next((m for m in METHODS if parts[0].startswith(m + "_")), "")
      key = (parts[0][len(method) + 1:], method) if method else ("", parts[0])
    runs[key][seed] = accuracy
  return runs


def report(workdir: str, paired=()) -> str:
  runs = collect(workdir)
  if not runs:
    raise UserError(f"{workdir} holds no finished grid run "
                    "(<variant>/.../seed=N/results.json)",
                    "pass the --workdir of a grid (python main.py --config=... "
                    "with grid.variants)")
  scratch = {group: statistics.mean(values.values())
             for (group, row), values in runs.items() if "scratch" in row}
  seeds = sorted({s for values in runs.values() for s in values})
  best = max(scratch.values(), default=float("nan")) - 10
  lines = ["| group | row | mean ± std | " + " | ".join(
      f"seed {s}" for s in seeds) + " | collapsed (group's scratch - 10) | "
           f"collapsed (< {best:.1f}) |",
           "|---" * (5 + len(seeds)) + "|"]
  for (group, row), values in sorted(runs.items()):
    accuracies = [values[s] for s in seeds if s in values]
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    floor = scratch.get(group, float("nan")) - 10
    lines.append(f"| {group} | {row} | {statistics.mean(accuracies):.2f} ± "
                 f"{spread:.2f} | " + " | ".join(
                     f"{values[s]:.1f}" if s in values else "" for s in seeds)
                 + f" | {sum(a < floor for a in accuracies)}/{len(accuracies)} "
                 f"(< {floor:.1f}) | {sum(a < best for a in accuracies)}/"
                 f"{len(accuracies)} |")
  if paired:
    a, b = paired
    for group in sorted({g for g, _ in runs}):
      first, second = runs.get((group, a), {}), runs.get((group, b), {})
      common = sorted(set(first) & set(second))
      if common:
        diffs = [first[s] - second[s] for s in common]
        spread = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
        lines.append(f"\n{group}: {a} - {b}, seeds {common}: " + ", ".join(
            f"{d:+.1f}" for d in diffs) + f" (mean {statistics.mean(diffs):+.2f}"
            f" ± {spread:.2f}; {sum(d > 0 for d in diffs)}/{len(diffs)} positive)")
  return "\n".join(lines)


@one_line_errors
def main(argv: list[str]) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("workdir")
  parser.add_argument("--paired", nargs=2, default=(), metavar=("A", "B"))
  args = parser.parse_args(argv[1:])
  print(report(args.workdir, args.paired))


if __name__ == "__main__":
  main(sys.argv)
