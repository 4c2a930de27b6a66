"""The workdir checks: config changes on resume, free disk space, the lock."""
import collections
import json
import os
import shutil

import pytest

from l2t_tf import methods, workdir
from l2t_tf.errors import UserError


def test_config_differences_ignore_what_does_not_change_results():
  saved = {"train": {"epochs": 3, "verbose": 1}, "export": {"version": 0}}
  same = {"train": {"epochs": 3, "verbose": 0}, "export": {"version": 4}}
  other = {"train": {"epochs": 4, "verbose": 1}, "export": {"version": 0}}
  assert workdir.config_differences(saved, same) == []
  assert workdir.config_differences(saved, other) == ["train.epochs"]


def test_resume_with_another_config_is_refused(tmp_path):
  workdir.prepare(str(tmp_path), "{}")
  workdir.record_config(str(tmp_path), json.dumps({"train": {"learning_rate": 0.1}}))
  with pytest.raises(UserError, match="another config.*train.learning_rate"):
    workdir.prepare(str(tmp_path), json.dumps({"train": {"learning_rate": 0.2}}))


def test_checkpoints_without_their_config_are_not_resumed_blind(tmp_path):
  """Issue #25: with config.json deleted, a resume under another config was
  accepted and the new config.json recorded settings that never ran."""
  (tmp_path / "checkpoints" / "ckpt-00000002").mkdir(parents=True)
  with pytest.raises(UserError, match="checkpoints but no config.json"):
    workdir.prepare(str(tmp_path), json.dumps({"train": {"learning_rate": 0.5}}))
  assert not (tmp_path / workdir.CONFIG).exists()


def test_too_little_free_space_fails_early(tmp_path, monkeypatch):
  usage = collections.namedtuple("usage", "total used free")
  monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10, 9, 2**20))
  with pytest.raises(UserError, match="only 1 MiB free.*needs about 8 MiB"):
    workdir.prepare(str(tmp_path / "run"), "{}", required_bytes=8 * 2**20)
  assert not (tmp_path / "run" / workdir.CONFIG).exists()


def test_a_held_workdir_is_refused_and_released_after(tmp_path):
  with workdir.lock(str(tmp_path)):
    holder = json.loads((tmp_path / workdir.LOCK).read_text())
    with pytest.raises(UserError, match=f"in use by process {holder['pid']}"):
      with workdir.lock(str(tmp_path)):
        pass
  assert not (tmp_path / workdir.LOCK).exists()
  with workdir.lock(str(tmp_path)):  # free again
    pass


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
  import socket  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                        capture_output=True, text=True, check=True)
  (tmp_path / workdir.LOCK).write_text(json.dumps(
      {"pid": int(gone.stdout), "host": socket.gethostname(), "started": 0}))
  with workdir.lock(str(tmp_path)):
    assert json.loads((tmp_path / workdir.LOCK).read_text())["pid"] != int(gone.stdout)


@pytest.mark.parametrize("holder", ["pid reused by a later process", "pid -1",
                                    "pid missing"])
def test_a_lock_whose_process_is_not_the_lockers_is_taken_over(tmp_path, holder):
  """Issue #25: a stale lock whose pid now belongs to another live process
  (here this test's own, which began long after the lock says it was taken)
  kept the workdir refused; pid -1 counted as live."""
  import socket  # pylint: disable=g-import-not-at-top
  import time  # pylint: disable=g-import-not-at-top
  pid = {"pid reused by a later process": os.getpid(), "pid -1": -1,
         "pid missing": None}[holder]
  # This process started after "started": it cannot be the one that locked.
  lock = {"host": socket.gethostname(), "started": time.time() - 10 ** 6}
  if pid is not None:
    lock["pid"] = pid
  (tmp_path / workdir.LOCK).write_text(json.dumps(lock))
  with workdir.lock(str(tmp_path)):
    assert json.loads((tmp_path / workdir.LOCK).read_text())["started"] > lock["started"]


def test_a_lock_of_a_live_process_since_its_start_is_kept(tmp_path):
  import socket  # pylint: disable=g-import-not-at-top
  import time  # pylint: disable=g-import-not-at-top
  (tmp_path / workdir.LOCK).write_text(json.dumps(
      {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}))
  with pytest.raises(UserError, match="in use by process"):
    with workdir.lock(str(tmp_path)):
      pass


def test_fields_added_since_a_run_and_unused_sections_are_no_difference():
  saved = {"method": "scratch", "train": {"epochs": 3},
           "transfer": {"matching": "one_to_one"}}
  current = {"method": "scratch", "train": {"epochs": 3, "new_field": 1},
             "transfer": {"matching": "all_to_all"}}
  unused = methods.get("scratch").unused_sections()
  assert unused == ("transfer.", "l2tl.")
  assert workdir.config_differences(saved, current, unused) == []
  saved["method"] = current["method"] = "fm"
  assert workdir.config_differences(saved, current,
                                    methods.get("fm").unused_sections()) == [
                                        "transfer.matching"]


def test_leftovers_of_a_killed_checkpoint_or_export_are_removed(tmp_path):
  """Hidden staging folders, and an uploaded export version without its
  saved_model.pb (the file an upload writes last)."""
  kept = tmp_path / "checkpoints" / "ckpt-00000001"
  exported = tmp_path / "export" / "target" / "1"
  for folder in (tmp_path / "checkpoints" / ".tmp-abc", kept,
                 tmp_path / "export" / "target" / ".tmp-def", exported,
                 tmp_path / "export" / "target" / "2" / "variables"):
    folder.mkdir(parents=True)
  (exported / "saved_model.pb").write_bytes(b"")
  (tmp_path / ".tmp-results").write_text("{")  # a file write cut short
  removed = workdir.remove_leftovers(str(tmp_path))
  assert [p.rsplit("/", 1)[1] for p in removed] == [
      ".tmp-results", ".tmp-abc", ".tmp-def", "2"]
  assert kept.exists() and exported.exists()
  assert not (tmp_path / "checkpoints" / ".tmp-abc").exists()
  assert not (tmp_path / "export" / "target" / "2").exists()


def test_a_run_saved_before_a_rename_still_matches_its_config():
  """config.json of l2t_tf 0.1 says data.source; today's config data.loader."""
  saved = {"method": "l2tl", "data": {"source": "digits", "name": ""},
           "l2tl": {"source_data": {"source": "embedded"}}}
  current = {"method": "l2tl", "data": {"loader": "digits", "name": ""},
             "l2tl": {"source_data": {"loader": "embedded"}}}
  assert workdir.config_differences(saved, current) == []
  assert workdir.upgrade_config(saved)["data"] == {"loader": "digits", "name": ""}
  assert saved["data"]["source"] == "digits"  # the saved dict is left alone
  current["data"]["loader"] = "idx"
  assert workdir.config_differences(saved, current) == ["data.loader"]


@pytest.mark.parametrize("name", ["sib[1]", "sib?", "sib*"])
def test_a_workdir_name_is_never_a_pattern(tmp_path, name):
  """Cleaning `sib[1]` must not reach `sib1`'s checkpoint being written."""
  other = tmp_path / "sib1" / "checkpoints" / ".tmp-x"
  other.mkdir(parents=True)
  own = tmp_path / name / "checkpoints" / ".tmp-y"
  own.mkdir(parents=True)
  assert workdir.remove_leftovers(str(tmp_path / name)) == [str(own)]
  assert other.exists() and not own.exists()


def test_a_run_from_another_checkout_names_the_same_shipped_sources():
  """Configs name shipped sources `assets:NAME`; a config.json written with
  the absolute paths of another checkout (or of l2t_tf 0.1) reads the same."""
  from configs import quickstart  # pylint: disable=g-import-not-at-top
  import l2t_tf  # pylint: disable=g-import-not-at-top
  config = quickstart.get_config()
  name = "source_resnet32_fmnist_0-4.keras"
  assert config.transfer.source_paths == (f"assets:{name}",)
  assert os.path.isfile(l2t_tf.resolve_asset(config.transfer.source_paths[0]))
  saved = json.loads(config.to_json_best_effort())
  saved["transfer"]["source_paths"] = [
      f"/elsewhere/venv/lib/python3.11/site-packages/l2t_tf/assets/{name}",
      f"decoy:/old/checkout/l2t_tf/assets/{name}", "/my/own/source.keras"]
  upgraded = workdir.upgrade_config(saved)["transfer"]["source_paths"]
  assert upgraded == [f"assets:{name}", f"decoy:assets:{name}", "/my/own/source.keras"]
  saved["transfer"]["source_paths"] = saved["transfer"]["source_paths"][:1]
  assert workdir.config_differences(saved, json.loads(config.to_json_best_effort())) == []


def test_a_finished_runs_files_are_required_whole(tmp_path):
  """export and visualise read config.json and results.json through `require`:
  a file that is missing, not an object or lacks a key is one line."""
  with pytest.raises(UserError, match="has no results.json, so it holds no"):
    workdir.require(str(tmp_path), "results.json", ("class_names",))
  (tmp_path / "results.json").write_text("[1, 2]")
  with pytest.raises(UserError, match="holds a JSON list, not the object"):
    workdir.require(str(tmp_path), "results.json", ("class_names",))
  (tmp_path / "results.json").write_text('{"method": "scratch"}')
  with pytest.raises(UserError, match="results.json lacks 'class_names'"):
    workdir.require(str(tmp_path), "results.json", ("method", "class_names"))
  assert workdir.require(str(tmp_path), "results.json", ("method",)) == {
      "method": "scratch"}
