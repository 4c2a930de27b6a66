"""Deterministic index selection: class subsets, validation hold-out, N per class."""
import dataclasses
from typing import Sequence

import numpy as np

from l2t_tf.errors import UserError


@dataclasses.dataclass
class SplitIndices:
  train: np.ndarray
  val: np.ndarray  # model selection
  meta: np.ndarray = dataclasses.field(  # L2T-ww's held-out meta-objective
      default_factory=lambda: np.zeros(0, np.int64))


def class_subset(labels: np.ndarray, classes: Sequence[int]) -> np.ndarray:
  """Indices of examples whose label is in `classes` (all if empty)."""
  if not len(classes):
    return np.arange(len(labels))
  unknown = sorted(set(classes) - set(np.unique(labels).tolist()))
  if unknown:
    raise UserError(f"data.classes {unknown} do not occur in the data",
                    f"choose among labels {sorted(np.unique(labels).tolist())}")
  return np.flatnonzero(np.isin(labels, classes))


def drop_first_per_class(labels: np.ndarray, candidates: np.ndarray,
                         count: int) -> np.ndarray:
  """`candidates` without each class's first `count` in file order.

  Keeps a model trained on the rest disjoint from images another dataset took
  first (the embedded subset holds the first 300 of each class).
  """
  if count < 0:
    raise UserError(f"data.skip_first_per_class must be >= 0, got {count}",
                    "use 0 to keep every image")
  keep = [members[count:] for label in np.unique(labels[candidates])
          for members in [candidates[labels[candidates] == label]]]
  return np.sort(np.concatenate(keep))


def split_train_val(labels: np.ndarray, candidates: np.ndarray,
                    val_per_class: int, images_per_class: int,
                    seed: int, meta_per_class: int = 0,
                    meta_into_train: bool = False) -> SplitIndices:
  """Holds out `val_per_class` per class, then keeps `images_per_class` (0 = all).

  The permutation depends on the seed only, so the validation set stays the
  same whatever `images_per_class` is, and smaller training subsets are nested
  in larger ones. The last `meta_per_class` of each class's held-out images
  form the meta set, never used for model selection; `meta_into_train` adds
  them to the training set instead (the control that gets the meta set's
  labels as plain training data). The training images do not depend on either.
  """
  if not 0 <= meta_per_class < max(val_per_class, 1):
    raise UserError(f"data.meta_per_class ({meta_per_class}) must be >= 0 and "
                    f"below data.val_per_class ({val_per_class})",
                    "keep some held-out images for model selection, e.g. "
                    "meta_per_class = val_per_class // 2")
  rng = np.random.default_rng(seed)
  train, val, meta = [], [], []
  for label in np.unique(labels[candidates]):
    members = candidates[labels[candidates] == label]
    members = members[rng.permutation(len(members))]
    needed = val_per_class + max(images_per_class, 1)
    if len(members) < needed:
      raise UserError(
          f"class {label} has {len(members)} images, fewer than "
          f"val_per_class + images_per_class = {needed}",
          "lower data.val_per_class or data.images_per_class")
    held_out = val_per_class - meta_per_class
    val.append(members[:held_out])
    meta.append(members[held_out:val_per_class])
    rest = members[val_per_class:]
    train.append(rest[:images_per_class] if images_per_class > 0 else rest)
    if meta_into_train:
      train.append(meta.pop())
  return SplitIndices(*(np.sort(np.concatenate(part or [np.zeros(0, np.int64)]))
                        for part in (train, val, meta)))
