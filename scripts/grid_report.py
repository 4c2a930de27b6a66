"""Per-seed table and collapse count of a grid's finished runs (issue #18).

  python scripts/grid_report.py runs/robustness
  python scripts/grid_report.py runs/recipe_ablation

Reads every `<variant>[/<column>=<value>]/seed=<n>/results.json` under the
grid's workdir (finished runs only, so a partly run grid can be reported).
For each (recipe, method): mean +- std of test accuracy over seeds, each
seed's value, and the number of collapsed runs: test accuracy more than 10
points below the mean of scratch with the same recipe, and more than 10
points below the best recipe's scratch mean (one bar for all rows). The recipe is the
variant folder of grids with a method column (recipe_ablation.py), or the part
of the variant folder after the method (`<method>_<recipe>`, robustness.py,
whose scratch and FM folders may link to recipe_ablation's identical runs).
"""
import collections
import json
import os
import statistics
import sys

METHODS = ("scratch", "FM_one-to-one", "L2T-w_one-to-one", "L2T-ww_all-to-all")


def _recipe_and_method(parts: list[str]) -> tuple[str, str]:
  if len(parts) == 2:  # variant/column=value
    return parts[0], parts[1].split("=", 1)[1]
  for method in METHODS:
    if parts[0].startswith(method + "_"):
      return parts[0][len(method) + 1:], method
  return "", parts[0]


def collect(workdir: str) -> dict:
  """(recipe, method) -> {seed: test accuracy in %}."""
  runs = collections.defaultdict(dict)
  for folder, _, files in os.walk(workdir, followlinks=True):
    name = os.path.basename(folder)
    if "results.json" not in files or not name.startswith("seed="):
      continue
    with open(os.path.join(folder, "results.json")) as f:
      accuracy = 100 * json.load(f)["test_accuracy"]
    parts = os.path.relpath(os.path.dirname(folder), workdir).split(os.sep)
    runs[_recipe_and_method(parts)][int(name.split("=")[1])] = accuracy
  return runs


def report(workdir: str) -> str:
  runs = collect(workdir)
  scratch = {recipe: statistics.mean(values.values())
             for (recipe, method), values in runs.items() if "scratch" in method}
  seeds = sorted({s for values in runs.values() for s in values})
  best = max(scratch.values(), default=float("nan")) - 10
  lines = ["| recipe | method | mean ± std | " + " | ".join(
      f"seed {s}" for s in seeds) + " | collapsed (own scratch - 10) | "
           f"collapsed (< {best:.1f}) |",
           "|---" * (5 + len(seeds)) + "|"]
  for (recipe, method), values in sorted(runs.items()):
    accuracies = [values[s] for s in seeds if s in values]
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    floor = scratch.get(recipe, float("nan")) - 10
    collapsed = sum(a < floor for a in accuracies)
    lines.append(f"| {recipe} | {method} | {statistics.mean(accuracies):.2f} ± "
                 f"{spread:.2f} | " + " | ".join(
                     f"{values[s]:.1f}" if s in values else "" for s in seeds)
                 + f" | {collapsed}/{len(accuracies)} (< {floor:.1f}) | "
                 f"{sum(a < best for a in accuracies)}/{len(accuracies)} |")
  return "\n".join(lines)


if __name__ == "__main__":
  print(report(sys.argv[1]))
