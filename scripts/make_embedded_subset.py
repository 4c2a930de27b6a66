"""Writes l2t_tf/assets/fashion_mnist_subset.npz from the Fashion-MNIST IDX files.

Class-balanced and deterministic: the first N training and M test images of
each class in file order. Usage:
  python scripts/make_embedded_subset.py [--idx_dir=/usr/share/datasets/fashion-mnist]
"""
from absl import app, flags
import numpy as np

from l2t_tf.data import sources

_IDX_DIR = flags.DEFINE_string("idx_dir", sources.DEBIAN_FASHION_MNIST,
                               "Folder with the IDX files.")
_TRAIN = flags.DEFINE_integer("train_per_class", 300, "Training images per class.")
_TEST = flags.DEFINE_integer("test_per_class", 200, "Test images per class.")


def _first_per_class(images, labels, n):
  keep = np.concatenate([np.flatnonzero(labels == c)[:n] for c in range(10)])
  keep.sort()
  return images[keep], labels[keep].astype(np.uint8)


def main(_):
  arrays = {}
  for split, prefix, n in (("train", "train", _TRAIN.value),
                           ("test", "t10k", _TEST.value)):
    images = sources.read_idx(f"{_IDX_DIR.value}/{prefix}-images-idx3-ubyte.gz")
    labels = sources.read_idx(f"{_IDX_DIR.value}/{prefix}-labels-idx1-ubyte.gz")
    arrays[f"{split}_images"], arrays[f"{split}_labels"] = _first_per_class(
        images, labels, n)
  np.savez_compressed(sources.EMBEDDED_PATH, **arrays)
  print({k: v.shape for k, v in arrays.items()}, "->", sources.EMBEDDED_PATH)


if __name__ == "__main__":
  app.run(main)
