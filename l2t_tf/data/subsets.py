"""Deterministic index selection: class subsets, validation hold-out, N per class."""
import dataclasses
from typing import Sequence

import numpy as np

from l2t_tf.errors import UserError


@dataclasses.dataclass
class SplitIndices:
  train: np.ndarray
  val: np.ndarray


def class_subset(labels: np.ndarray, classes: Sequence[int]) -> np.ndarray:
  """Indices of examples whose label is in `classes` (all if empty)."""
  if not len(classes):
    return np.arange(len(labels))
  unknown = sorted(set(classes) - set(np.unique(labels).tolist()))
  if unknown:
    raise UserError(f"data.classes {unknown} do not occur in the data",
                    f"choose among labels {sorted(np.unique(labels).tolist())}")
  return np.flatnonzero(np.isin(labels, classes))


def split_train_val(labels: np.ndarray, candidates: np.ndarray,
                    val_per_class: int, images_per_class: int,
                    seed: int) -> SplitIndices:
  """Holds out `val_per_class` per class, then keeps `images_per_class` (0 = all).

  The permutation depends on the seed only, so the validation set stays the
  same whatever `images_per_class` is, and smaller training subsets are nested
  in larger ones.
  """
  rng = np.random.default_rng(seed)
  train, val = [], []
  for label in np.unique(labels[candidates]):
    members = candidates[labels[candidates] == label]
    members = members[rng.permutation(len(members))]
    needed = val_per_class + max(images_per_class, 1)
    if len(members) < needed:
      raise UserError(
          f"class {label} has {len(members)} images, fewer than "
          f"val_per_class + images_per_class = {needed}",
          "lower data.val_per_class or data.images_per_class")
    val.append(members[:val_per_class])
    rest = members[val_per_class:]
    train.append(rest[:images_per_class] if images_per_class > 0 else rest)
  return SplitIndices(np.sort(np.concatenate(train)), np.sort(np.concatenate(val)))
