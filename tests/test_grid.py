"""The experiment grid: overrides, skipping finished runs, CSV and Markdown table."""
import csv
import importlib
import io
import os
import re

import pytest

import test_configs
from configs import quickstart
from l2t_tf import grid, storage
from l2t_tf.errors import UserError


def test_override_sets_a_copy_and_refuses_unknown_fields():
  config = quickstart.get_config()
  changed = grid.override(config, "data.classes", [1, 2])
  assert changed.data.classes == (1, 2) and config.data.classes == (5, 6, 7, 8, 9)
  with pytest.raises(UserError, match="data.clases"):
    grid.override(config, "data.clases", 3)


def test_markdown_table_by_hand():
  rows = [{"variant": "a", "column": 25, "test_accuracy": t} for t in (0.5, 0.7)]
  rows += [{"variant": "b", "column": 25, "test_accuracy": 0.9}]
  assert grid.markdown_table(rows, "images_per_class", [25]) == (
      "| method | images_per_class=25 |\n|---|---|\n"
      "| a | 60.00 ± 14.14 |\n| b | 90.00 ± 0.00 |\n")


def test_the_table_and_csv_go_to_a_filesystem_without_rename(ram):
  config = grid.override(quickstart.get_config(), "grid.seeds", (0, 1))
  rows = [{"variant": "scratch", "column": "", "seed": seed, "test_accuracy": 0.5,
           "val_accuracy": 0.5, "best_epoch": 1, "workdir": "x"} for seed in (0, 1)]
  table = grid.write_outputs(rows, config.grid, ram)
  assert "| scratch | 50.00 ± 0.00 |" in storage.read_text(f"{ram}/table.md")
  csv_rows = list(csv.DictReader(io.StringIO(storage.read_text(f"{ram}/results.csv"))))
  assert [r["seed"] for r in csv_rows] == ["0", "1"]
  assert "| scratch | 50.00 ± 0.00 |" in table


@pytest.mark.parametrize("name", [n for n in test_configs.CONFIGS
                                  if n.startswith(("paper_", "fmnist_table"))])
def test_every_preset_expands(name):
  config = importlib.import_module(f"configs.{name}").get_config()
  planned = list(grid.runs(config))
  columns = len(config.grid.column_values) if config.grid.column else 1
  assert len(planned) == len(config.grid.variants) * columns * len(config.grid.seeds)
  assert len({folder for *_, folder in planned}) == len(planned)


@pytest.mark.slow
def test_a_tiny_grid_runs_then_skips_what_finished(tmp_path):
  config = quickstart.get_config()
  for dotted, value in (("data.classes", (5, 7)), ("data.images_per_class", 8),
                        ("data.val_per_class", 4), ("model.width", 0.0625),
                        ("train.batch_size", 8), ("train.epochs", 1),
                        ("train.verbose", 0), ("export.enabled", False),
                        ("grid.seeds", (0, 1)),
                        ("grid.variants", (("scratch", (("method", "scratch"),)),
                                           ("AT", (("method", "at"),))))):
    config = grid.override(config, dotted, value)
  rows = grid.run_grid(config, str(tmp_path))
  assert [(r["variant"], r["seed"]) for r in rows] == [
      ("scratch", 0), ("scratch", 1), ("AT", 0), ("AT", 1)]
  assert os.path.exists(tmp_path / "AT" / "seed=1" / "results.json")
  table = (tmp_path / "table.md").read_text()
  assert "| scratch |" in table and "| AT |" in table
  stamp = os.stat(tmp_path / "AT" / "seed=1" / "results.json").st_mtime_ns
  again = grid.run_grid(config, str(tmp_path))  # finished: nothing retrains
  assert again == rows
  assert os.stat(tmp_path / "AT" / "seed=1" / "results.json").st_mtime_ns == stamp
  with open(tmp_path / "results.csv") as f:
    assert len(list(csv.DictReader(f))) == 4
  # The same grid with another learning rate must not report those results.
  changed = grid.override(config, "train.learning_rate", 0.01)
  with pytest.raises(UserError, match="finished run with another config.*"
                     "train.learning_rate"):
    grid.run_grid(changed, str(tmp_path))


def test_a_plan_that_would_fail_later_fails_before_the_first_run(tmp_path):
  """The third variant learns phi on a meta set it also trains on: refused
  before the first variant trains (nothing written)."""
  config = grid.override(quickstart.get_config(), "grid.variants", (
      ("scratch", (("method", "scratch"),)),
      ("frozen", (("method", "l2t_ww"), ("transfer.freeze_meta", True))),
      ("learned", (("method", "l2t_ww"), ("transfer.meta_objective", "alignment"))),
  ))
  config = grid.override(config, "data.meta_per_class", 10)
  config = grid.override(config, "data.meta_into_train", True)
  with pytest.raises(UserError, match="data.meta_into_train trains on it"):
    grid.run_grid(config, str(tmp_path / "grid"))
  assert not os.path.exists(tmp_path / "grid")
  config = grid.override(config, "data.meta_per_class", 0)
  with pytest.raises(UserError, match="needs a held-out meta set"):
    grid.run_grid(grid.override(config, "data.meta_into_train", False),
                  str(tmp_path / "grid"))


@pytest.mark.parametrize("field, value, message", [
    ("grid.seeds", (), "grid.seeds is empty"),
    ("grid.seeds", (0, 0, 0), "repeats a seed"),
    ("grid.column", "seed", "list seeds in grid.seeds"),
    ("grid.column_values", (), "grid.column_values is empty"),
    ("grid.variants", (("a", (("method", "scratch"),)), "b"), "'b' is not (name"),
    ("grid.variants", (("a b", ()), ("a_b", ())), "share the folder 'a_b'"),
])
def test_a_grid_that_would_mislead_is_refused_before_it_runs(tmp_path, field, value,
                                                             message):
  config = grid.override(quickstart.get_config(), "grid.variants",
                         (("scratch", (("method", "scratch"),)),))
  config = grid.override(config, "grid.column", "data.images_per_class")
  config = grid.override(config, "grid.column_values", (8,))
  with config.unlocked():
    node, leaf = config.grid, field.split(".")[1]
    node[leaf] = value
  with pytest.raises(UserError, match=re.escape(message)):
    grid.run_grid(config, str(tmp_path / "grid"))
  assert not os.path.exists(tmp_path / "grid")
