"""Every file l2t_tf reads or writes, through TensorFlow's filesystem layer.

A path is local (`/runs/x`) or on any filesystem TensorFlow has (`gs://b/x`
built in; `s3://`, `hdfs://` with tensorflow-io; `ram://` in tests). Writes
are crash-safe on both kinds:

- local: write a hidden temporary next to the target, fsync, rename over it;
  a rename is atomic, so readers see the old file or folder or the new one.
- elsewhere (object stores cannot rename a folder): a file is uploaded under
  a temporary name and renamed, which an object store does as one
  server-side copy, visible whole or not at all; a folder is staged on local
  disk and uploaded file by file, its `last` file last, so it is complete
  exactly when that file exists. A reader that trusts a folder only through
  a pointer written after it (a checkpoint's LATEST) or through its last
  file (a SavedModel's saved_model.pb) never sees half of one.
"""
import errno
import fnmatch
import functools
import os
import shutil
import tempfile
import uuid
from typing import Callable, Iterable

import tensorflow as tf

from l2t_tf.errors import UserError

gfile = tf.io.gfile


def is_local(path: str) -> bool:
  """Whether `path` is on a local disk (no `scheme://`)."""
  return "://" not in os.fspath(path)


def expand(path: str) -> str:
  """`~` means the home folder on a local path; other paths are left as given."""
  return os.path.expanduser(path) if is_local(path) else path


def _reachable(query: Callable) -> Callable:
  """`query` (which answers False or [] for a missing path) with a filesystem
  that cannot be reached at all turned into one UserError."""
  @functools.wraps(query)
  def checked(path):
    try:
      return query(path)
    except tf.errors.OpError as e:
      raise UserError(f"cannot reach {path} ({e.message.splitlines()[0]})",
                      "check the path's scheme (gs:// is built into TensorFlow, "
                      "s3:// and hdfs:// need tensorflow-io), the network and your "
                      "access to it") from None
  return checked


@_reachable
def exists(path: str) -> bool:
  return gfile.exists(path)


@_reachable
def isdir(path: str) -> bool:
  if gfile.isdir(path):
    return True
  gfile.exists(path)  # raises where isdir says False for an unknown scheme
  return False


@_reachable
def isfile(path: str) -> bool:
  return gfile.exists(path) and not gfile.isdir(path)


def makedirs(path: str) -> None:
  gfile.makedirs(path)


def listdir(path: str) -> list[str]:
  """Names in folder `path` (object stores mark folders with a trailing /)."""
  return [name.rstrip("/") for name in gfile.listdir(path)]


def walk(root: str):
  """(folder, sub-folders, files) under `root`, as os.walk gives them."""
  return gfile.walk(root)


def find(root: str, *patterns: str) -> list[str]:
  """Paths `root/a/b/...` whose names match `patterns` one level each (`*`, `?`).

  `root` is a literal name, never a pattern: a workdir called `runs[1]` or
  `a*` finds only what is under itself, not under its look-alikes.
  """
  found = [root]
  for pattern in patterns:
    found = [os.path.join(folder, name) for folder in found if isdir(folder)
             for name in sorted(listdir(folder))
             if fnmatch.fnmatchcase(name, pattern)]
  return found


def remove(path: str) -> None:
  gfile.remove(path)


def rmtree(path: str) -> None:
  """Deletes a folder and what it holds; one already gone is no error."""
  try:
    gfile.rmtree(path)
  except tf.errors.NotFoundError:
    pass


def ends(path: str, head: int, tail: int) -> tuple[bytes, bytes]:
  """The first `head` and the last `tail` bytes of a file (without reading it all)."""
  with gfile.GFile(path, "rb") as f:
    first = f.read(head)
    f.seek(max(0, gfile.stat(path).length - tail))
    return first, f.read()


def read_bytes(path: str) -> bytes:
  with gfile.GFile(path, "rb") as f:
    return f.read()


def read_text(path: str) -> str:
  return read_bytes(path).decode("utf-8")


def write(path: str, data: bytes | str) -> None:
  """Replaces file `path` by `data` as one step (see the module docstring)."""
  path = os.fspath(path)
  data = data.encode("utf-8") if isinstance(data, str) else data
  if not is_local(path):  # one upload, then a rename (a server-side copy)
    staged = os.path.join(os.path.dirname(path), f".tmp-{uuid.uuid4().hex}")
    with gfile.GFile(staged, "wb") as f:
      f.write(data)
    gfile.rename(staged, path, overwrite=True)
    return
  folder = os.path.dirname(path) or "."
  with tempfile.NamedTemporaryFile("wb", dir=folder, delete=False,
                                   prefix=".tmp-") as f:
    try:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
      _usual_mode(f.name, 0o666)
    except BaseException:
      os.remove(f.name)
      raise
  os.replace(f.name, path)


def _usual_mode(path: str, mode: int) -> None:
  """The permissions `open` would have given (tempfile makes files private)."""
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(path, mode & ~umask)


def create_exclusive(path: str, data: str) -> bool:
  """Creates file `path` holding `data` unless it exists; True if this call did.

  Local disks do this atomically (O_EXCL). Elsewhere it is a check, a write
  and a read-back: two writers within one round trip of each other can both
  believe they won, which an object store excludes only through its own
  conditional-write API (outside TensorFlow's filesystem layer).
  """
  if is_local(path):
    try:
      with open(path, "x", encoding="utf-8") as f:
        f.write(data)
      return True
    except FileExistsError:
      return False
  if gfile.exists(path):
    return False
  write(path, data)
  return read_text(path) == data


def publish_folder(final: str, fill: Callable[[str], None],
                   last: Iterable[str] = ()) -> None:
  """Creates folder `final` by `fill(folder)` so no reader sees it half-written.

  `final` must not exist. Local: `fill` writes a hidden sibling, which is
  fsynced and renamed to `final`. Elsewhere: `fill` writes a local staging
  folder that is uploaded to `final`, the files named in `last` last.
  """
  parent, last = os.path.dirname(final), tuple(last)
  gfile.makedirs(parent)
  if gfile.exists(final):
    raise FileExistsError(final)
  local = is_local(final)
  staging = tempfile.mkdtemp(dir=parent if local else None, prefix=".tmp-")
  try:
    fill(staging)
    files = sorted(os.path.relpath(os.path.join(folder, name), staging)
                   for folder, _, names in os.walk(staging) for name in names)
    files.sort(key=lambda name: os.path.basename(name) in last)
    for name in files:
      if local:
        with open(os.path.join(staging, name), "rb") as f:
          os.fsync(f.fileno())
      else:
        target = os.path.join(final, name)
        gfile.makedirs(os.path.dirname(target))
        gfile.copy(os.path.join(staging, name), target, overwrite=True)
    if local:
      _usual_mode(staging, 0o777)  # TF Serving may run as another user
      try:
        os.replace(staging, final)
      except OSError as e:  # another process published `final` meanwhile
        if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
          raise FileExistsError(final) from None
        raise
  finally:
    shutil.rmtree(staging, ignore_errors=True)
