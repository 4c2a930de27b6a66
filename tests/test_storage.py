"""storage: the same calls on a local disk and on ram://, TensorFlow's in-memory
filesystem, which like an object store has no rename of a folder."""
import os
import stat
import uuid

import pytest
import tensorflow as tf

from l2t_tf import storage


@pytest.fixture(params=["local", "ram"])
def root(request, tmp_path):
  if request.param == "local":
    return str(tmp_path)
  root = f"ram://test-{uuid.uuid4().hex}"
  request.addfinalizer(lambda: storage.rmtree(root))
  return root


def test_ram_has_no_folder_rename(ram):
  """Why storage never renames a folder off the local disk: here the children stay."""
  storage.makedirs(f"{ram}/a")
  storage.write(f"{ram}/a/file", "x")
  tf.io.gfile.rename(f"{ram}/a", f"{ram}/b")
  assert not storage.exists(f"{ram}/b/file")


def test_paths(root):
  assert storage.is_local(root) == (not root.startswith("ram://"))
  assert storage.expand("ram://~/x") == "ram://~/x"
  assert storage.expand("~/x") == os.path.expanduser("~/x")


def test_write_replaces_a_file_whole(root):
  path = os.path.join(root, "results.json")
  storage.write(path, "old")
  storage.write(path, b"new \xe2\x9c\x93")
  assert storage.read_text(path) == "new \u2713"
  assert storage.listdir(root) == ["results.json"]  # no temporary left
  assert storage.isfile(path) and not storage.isdir(path)
  assert storage.ends(path, 3, 4) == (b"new", b" \xe2\x9c\x93")
  assert storage.ends(path, 99, 99) == (b"new \xe2\x9c\x93",) * 2


def test_a_local_write_is_readable_by_others_as_open_would_make_it(tmp_path):
  umask = os.umask(0o022)
  try:
    storage.write(str(tmp_path / "f"), "x")
  finally:
    os.umask(umask)
  assert stat.S_IMODE(os.stat(tmp_path / "f").st_mode) == 0o644


def test_create_exclusive_lets_one_caller_in(root):
  path = os.path.join(root, ".lock")
  storage.makedirs(root)
  assert storage.create_exclusive(path, "first")
  assert not storage.create_exclusive(path, "second")
  assert storage.read_text(path) == "first"


def _fill(folder):
  os.makedirs(os.path.join(folder, "variables"))
  for name in ("variables/data", "saved_model.pb", "assets.txt"):
    with open(os.path.join(folder, name), "w") as f:
      f.write(name)


def test_publish_folder(root):
  final = os.path.join(root, "model", "3")
  storage.publish_folder(final, _fill, last=("saved_model.pb",))
  assert storage.read_text(os.path.join(final, "variables", "data")) == "variables/data"
  assert storage.listdir(os.path.join(root, "model")) == ["3"]  # nothing staged left
  with pytest.raises(FileExistsError):
    storage.publish_folder(final, _fill)


def test_an_upload_writes_its_last_file_last(ram, monkeypatch):
  copied = []
  copy = storage.gfile.copy
  monkeypatch.setattr(storage.gfile, "copy", lambda src, dst, overwrite: (
      copied.append(os.path.basename(dst)), copy(src, dst, overwrite)))
  storage.publish_folder(f"{ram}/v", _fill, last=("saved_model.pb",))
  assert sorted(copied) == ["assets.txt", "data", "saved_model.pb"]
  assert copied[-1] == "saved_model.pb"


def test_an_upload_cut_short_lacks_its_last_file(ram, cut_upload):
  """A kill between files: readers that wait for the last file see no model."""
  cut_upload("saved_model.pb")
  with pytest.raises(tf.errors.UnavailableError):
    storage.publish_folder(f"{ram}/v", _fill, last=("saved_model.pb",))
  assert storage.exists(f"{ram}/v/assets.txt")
  assert not storage.exists(f"{ram}/v/saved_model.pb")


def test_a_failed_local_publish_leaves_nothing(tmp_path):
  def fails(folder):
    _fill(folder)
    raise OSError(28, "No space left on device")
  with pytest.raises(OSError):
    storage.publish_folder(str(tmp_path / "v"), fails)
  assert os.listdir(tmp_path) == []


def test_a_local_publish_is_readable_by_others(tmp_path):
  umask = os.umask(0o022)
  try:
    storage.publish_folder(str(tmp_path / "v"), _fill)
  finally:
    os.umask(umask)
  assert stat.S_IMODE(os.stat(tmp_path / "v").st_mode) == 0o755
