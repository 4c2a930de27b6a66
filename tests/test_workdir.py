"""The workdir checks: config changes on resume, free disk space."""
import collections
import json
import shutil

import pytest

from l2t_tf import workdir
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


def test_too_little_free_space_fails_early(tmp_path, monkeypatch):
  usage = collections.namedtuple("usage", "total used free")
  monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10, 9, 2**20))
  with pytest.raises(UserError, match="only 1 MiB free.*needs about 8 MiB"):
    workdir.prepare(str(tmp_path / "run"), "{}", required_bytes=8 * 2**20)
  assert not (tmp_path / "run" / workdir.CONFIG).exists()
