"""Experiment grids: variants x column values x seeds, a table like the paper's.

A config with `grid.variants` set runs every (variant, column value, seed) in
`<workdir>/<variant>/<column>=<value>/seed=<seed>/`, skips runs that already
finished there (so a killed grid resumes by rerunning it), and writes
`results.csv` (one row per run) and `table.md` (mean +- std over seeds; rows:
variants, columns: the column values, as the paper's Table 1).

`config.compare` is the one-seed grid of one variant per method, each in
`<workdir>/<method>/` (run_comparison).

  grid.variants = (("scratch", (("method", "scratch"),)),
                   ("L2T-ww (all-to-all)", (("method", "l2t_ww"),))),
  grid.column = "data.images_per_class"      # or "" for one column
  grid.column_values = (50, 100)
  grid.seeds = (0, 1, 2)
"""
import csv
import io
import itertools
import os
import re
import statistics

from absl import logging

from l2t_tf import dotted, methods, plots, storage, train
from l2t_tf import workdir as workdir_lib
from l2t_tf.errors import UserError

FIELDS = ("variant", "column", "seed", "test_accuracy", "val_accuracy",
          "best_epoch", "seconds", "workdir")


def override(config, field: str, value):
  """A copy of `config` with the dotted `field` (e.g. 'data.classes') set."""
  config = config.copy_and_resolve_references()
  try:
    node, name = dotted.locate(config, field)
    with config.unlocked():
      node[name] = type(node[name])(value) if isinstance(node[name], tuple) else value
  except (KeyError, AttributeError, TypeError, ValueError) as e:
    raise UserError(f"grid sets unknown or mistyped config field '{field}' "
                    f"({type(e).__name__})", "use a field of configs/common.py") from None
  return config


def _folder(name) -> str:
  return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", str(name)).strip("_")


def _check_grid(grid) -> None:
  """A grid that would train nothing, a run twice, or two runs in one folder."""
  if not grid.seeds:
    raise UserError("grid.seeds is empty", "pass e.g. --config.grid.seeds=(0,1,2)")
  if len(set(grid.seeds)) < len(grid.seeds):
    raise UserError(f"grid.seeds {tuple(grid.seeds)} repeats a seed: its runs would "
                    "be one run counted twice", "list each seed once")
  if grid.column == "seed":
    raise UserError("grid.column is 'seed'", "list seeds in grid.seeds instead")
  if grid.column and not grid.column_values:
    raise UserError(f"grid.column is '{grid.column}' but grid.column_values is empty",
                    "pass e.g. --config.grid.column_values=(25,100), or "
                    "--config.grid.column=''")
  for variant in grid.variants:
    if not (isinstance(variant, (tuple, list)) and len(variant) == 2
            and isinstance(variant[0], str) and isinstance(variant[1], (tuple, list))
            and all(isinstance(o, (tuple, list)) and len(o) == 2 for o in variant[1])):
      raise UserError(f"grid variant {variant!r} is not (name, ((field, value), ...))",
                      "write each variant as ('name', (('method', 'fm'),))")
  folders = {}
  for name, _ in grid.variants:
    if _folder(name) in folders:
      raise UserError(f"grid variants '{folders[_folder(name)]}' and '{name}' share "
                      f"the folder '{_folder(name)}'", "rename one of them")
    folders[_folder(name)] = name


def runs(config, grid=None):
  """(variant name, column value, seed, run config, relative folder) for the grid
  (`config.grid` unless another is given)."""
  grid = grid or config.grid
  _check_grid(grid)
  columns = list(grid.column_values) if grid.column else [""]
  for (name, overrides), column, seed in itertools.product(
      grid.variants, columns, grid.seeds):
    run_config = config
    for field, value in overrides:
      run_config = override(run_config, field, value)
    if grid.column:
      run_config = override(run_config, grid.column, column)
    run_config = override(run_config, "seed", seed)
    with run_config.unlocked():
      run_config.grid.variants = ()
    folder = os.path.join(_folder(name), _folder(f"{grid.column.split('.')[-1]}"
                                                 f"={column}") if grid.column
                          else "", f"seed={seed}")
    yield name, column, seed, run_config, folder


def run_grid(config, workdir: str) -> list[dict]:
  """Runs (or skips, when finished) every run of the grid; writes the CSV and table."""
  rows = _run_all(list(runs(config)), workdir)
  if rows:  # the chief's
    print(write_outputs(rows, config.grid, workdir), flush=True)
  return rows


def comparison(config, methods_to_run):
  """`config.compare` as a grid: one variant per method, no column, config.seed."""
  if not methods_to_run:
    raise UserError("config.method is empty and config.compare names no method",
                    "pass --config.method=l2t_ww, or --config.compare="
                    "\"('scratch','l2t_ww')\"")
  unknown = [m for m in methods_to_run if m not in methods.REGISTRY]
  if unknown:  # before the first method trains
    raise UserError(f"config.compare names unknown method '{unknown[0]}'",
                    f"use methods among {sorted(methods.REGISTRY)}")
  grid = config.grid.copy_and_resolve_references()
  with grid.unlocked():
    grid.variants = tuple((method, (("method", method),)) for method in methods_to_run)
    grid.column, grid.column_values, grid.seeds = "", (), (config.seed,)
  return grid


def run_comparison(config, workdir: str, methods_to_run) -> dict:
  """Runs several methods, each in workdir/<method>, and returns their results."""
  grid = comparison(config, methods_to_run)
  planned = [(name, column, seed, run_config, name)  # no seed=: one seed
             for name, column, seed, run_config, _ in runs(config, grid)]
  rows = _run_all(planned, workdir)
  if rows:
    write_outputs(rows, grid, workdir)
  return {row["variant"]: row["result"] for row in rows}


def _run_all(planned, workdir: str) -> list[dict]:
  """Checks every planned run, then runs (or skips, when finished) each in turn."""
  for _, _, _, run_config, folder in planned:
    train.check_run(run_config, os.path.join(workdir, folder))
  rows = []
  for index, (name, column, seed, run_config, folder) in enumerate(planned):
    run_dir = os.path.join(workdir, folder)
    result = workdir_lib.finished(run_dir, run_config.to_json_best_effort(),
                                  methods.get(run_config.method).unused_sections())
    if result is not None:
      logging.info("[%d/%d] %s finished, skipping", index + 1, len(planned), folder)
    else:
      print(f"[{index + 1}/{len(planned)}] {folder}", flush=True)
      result = train.run(run_config, run_dir)
    if result:  # other workers of a multi-worker run get none
      rows.append({"variant": name, "column": column, "seed": seed,
                   "test_accuracy": result["test_accuracy"],
                   "val_accuracy": result["val_accuracy"],
                   "best_epoch": result["best_epoch"], "seconds": result["seconds"],
                   "workdir": folder, "result": result})
  return rows


def markdown_table(rows: list[dict], column_title: str, columns: list) -> str:
  """Mean +- std (over seeds) of test accuracy in %, variants by columns."""
  header = "| method | " + " | ".join(
      f"{column_title}={c}" if column_title else "test accuracy (%)"
      for c in columns) + " |"
  lines = [header, "|---" * (len(columns) + 1) + "|"]
  for variant in dict.fromkeys(r["variant"] for r in rows):
    cells = []
    for column in columns:
      values = [100 * r["test_accuracy"] for r in rows
                if r["variant"] == variant and r["column"] == column]
      spread = statistics.stdev(values) if len(values) > 1 else 0.0
      cells.append(f"{statistics.mean(values):.2f} ± {spread:.2f}")
    lines.append(f"| {variant} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def write_outputs(rows: list[dict], grid, workdir: str) -> str:
  """results.csv, table.md and, with one run per variant, their learning curves;
  returns the table."""
  storage.makedirs(workdir)
  csv_text = io.StringIO()
  writer = csv.DictWriter(csv_text, fieldnames=FIELDS, extrasaction="ignore")
  writer.writeheader()
  writer.writerows(rows)
  storage.write(os.path.join(workdir, "results.csv"), csv_text.getvalue())
  columns = list(grid.column_values) if grid.column else [""]
  seeds = len(grid.seeds)
  table = markdown_table(rows, grid.column.split(".")[-1], columns)
  storage.write(os.path.join(workdir, "table.md"),
                f"Test accuracy at the best validation epoch, mean ± std over "
                f"{seeds} seed(s).\n\n{table}")
  histories = {r["variant"]: r["result"]["history"] for r in rows if "result" in r}
  if len(histories) == len(rows) > 1:  # one run each: the question it asks
    plots.save(plots.learning_curves(histories),
               os.path.join(plots.output_dir(workdir), "learning_curves.png"))
  return table
