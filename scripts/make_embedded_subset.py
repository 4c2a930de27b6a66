"""Writes a class-balanced Fashion-MNIST subset (.npz) from the IDX files.

Deterministic: the first N training and M test images of each class in file
order. The shipped l2t_tf/assets/fashion_mnist_subset.npz is rebuilt only
when --out names it and --overwrite is given. Usage:
  python scripts/make_embedded_subset.py --out=subset.npz \
      [--idx_dir=/usr/share/datasets/fashion-mnist] [--train_per_class=300]
"""
import io
import os

from absl import app, flags
import numpy as np

from l2t_tf import storage
from l2t_tf.data import sources
from l2t_tf.errors import UserError, one_line_errors

_IDX_DIR = flags.DEFINE_string("idx_dir", sources.DEBIAN_FASHION_MNIST,
                               "Folder with the IDX files.")
_OUT = flags.DEFINE_string("out", "", "The .npz to write (required).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an existing --out.")
_TRAIN = flags.DEFINE_integer("train_per_class", 300, "Training images per class.")
_TEST = flags.DEFINE_integer("test_per_class", 200, "Test images per class.")


def _first_per_class(images, labels, n):
  keep = np.concatenate([np.flatnonzero(labels == c)[:n] for c in range(10)])
  keep.sort()
  return images[keep], labels[keep].astype(np.uint8)


def _check_flags() -> None:
  if not _OUT.value:
    raise UserError("--out is required", "pass --out=FILE.npz (the shipped subset "
                    f"is {sources.EMBEDDED_PATH}; to rebuild it, name it and add "
                    "--overwrite)")
  if storage.exists(_OUT.value) and not _OVERWRITE.value:
    raise UserError(f"{_OUT.value} exists", "pass another --out, or --overwrite "
                    "to replace it")
  for flag in (_TRAIN, _TEST):
    if flag.value < 1:
      raise UserError(f"--{flag.name} must be at least 1, got {flag.value}",
                      f"pass --{flag.name}=N with N >= 1")
  if not storage.isdir(_IDX_DIR.value):
    raise UserError(f"--idx_dir {_IDX_DIR.value} is not a folder",
                    "install Debian's dataset-fashion-mnist or pass the folder "
                    "holding the *-idx*-ubyte.gz files")


@one_line_errors
def main(argv):
  del argv
  _check_flags()
  arrays = {}
  for split, prefix, n in (("train", "train", _TRAIN.value),
                           ("test", "t10k", _TEST.value)):
    images = sources.read_idx(os.path.join(_IDX_DIR.value,
                                           f"{prefix}-images-idx3-ubyte.gz"))
    labels = sources.read_idx(os.path.join(_IDX_DIR.value,
                                           f"{prefix}-labels-idx1-ubyte.gz"))
    arrays[f"{split}_images"], arrays[f"{split}_labels"] = _first_per_class(
        images, labels, n)
  buffer = io.BytesIO()
  np.savez_compressed(buffer, **arrays)
  storage.write(_OUT.value, buffer.getvalue())  # one step: never half a file
  print({k: v.shape for k, v in arrays.items()}, "->", _OUT.value)


if __name__ == "__main__":
  app.run(main)
