"""Matching configurations: which source feature points meet which target points."""
import dataclasses
import re
from typing import Sequence

from l2t_tf.errors import UserError

MATCHINGS = ("single", "one_to_one", "all_to_all")


@dataclasses.dataclass(frozen=True)
class Point:
  """A feature point: its network (source index, or -1 for the target) and shape."""
  network: int
  name: str
  index: int          # 1-based position in its network, as the paper's m and n
  shape: tuple        # (height, width, channels)


@dataclasses.dataclass(frozen=True)
class Pair:
  source: Point
  target: Point

  @property
  def label(self) -> str:
    """'m_n' as in the paper's lambda^{m,n}; sources after the first get a prefix."""
    prefix = f"s{self.source.network}." if self.source.network else ""
    return f"{prefix}{self.source.index}_{self.target.index}"


def points(shapes: dict, network: int) -> list[Point]:
  """The Points of one network from its `backbones.feature_shapes` (in order)."""
  return [Point(network, name, i + 1, tuple(shape))
          for i, (name, shape) in enumerate(shapes.items())]


def _same_size(a: Point, b: Point) -> bool:
  return a.shape[:2] == b.shape[:2]


def _find(points: Sequence[Point], key: str, what: str) -> Point:
  """A point by its layer name ('k:name' for source k's)."""
  network, _, name = str(key).rpartition(":")
  matches = [p for p in points if p.name == name
             and (not network or str(p.network) == network)]
  if len(matches) != 1:
    raise UserError(f"{what} point '{key}' is unknown or ambiguous",
                    f"use one of {[p.name for p in points]} (prefix 'k:' for "
                    "source k)")
  return matches[0]


_LABEL = re.compile(r"(?:s(\d+)\.)?(\d+)_(\d+)")


def _by_label(label: str, source_points, target_points) -> Pair:
  """The pair a label names: 'm_n' (source point m of the first source, target
  point n, both from 1) or 'sK.m_n' (source K, counting sources from 0)."""
  match = _LABEL.fullmatch(label)
  source = target = None
  if match:
    network, m, n = int(match.group(1) or 0), int(match.group(2)), int(match.group(3))
    source = next((p for p in source_points
                   if p.network == network and p.index == m), None)
    target = next((p for p in target_points if p.index == n), None)
  if source is None or target is None:
    known = [Pair(s, t).label for s in source_points[:2] for t in target_points[:2]]
    raise UserError(f"transfer.pairs names no pair '{label}'",
                    f"use labels m_n as lambdas.json names pairs (from 1; "
                    f"'sK.m_n' for source K), e.g. {known}, or (source layer, "
                    "target layer) names")
  return Pair(source, target)


def _entry(entry, source_points, target_points) -> Pair:
  if isinstance(entry, str):
    return _by_label(entry, source_points, target_points)
  s, t = entry
  if isinstance(s, int) or isinstance(t, int):  # positions: refused, with the label
    label = (Pair(source_points[s], target_points[t]).label
             if isinstance(s, int) and isinstance(t, int)
             and 0 <= s < len(source_points) and 0 <= t < len(target_points)
             else "m_n")
    raise UserError(f"transfer.pairs entry {tuple(entry)} gives positions, which "
                    "count differently from the pairs' labels",
                    f"write its label '{label}' (as lambdas.json and TensorBoard "
                    "name pairs, from 1) or (source layer, target layer) names")
  return Pair(_find(source_points, s, "source"), _find(target_points, t, "target"))


def build_pairs(matching: str, source_points: Sequence[Point],
                target_points: Sequence[Point], explicit=()) -> list[Pair]:
  """The candidate pairs C of a matching configuration.

  single: each source's last point with the target point of the same spatial
  size; one_to_one: every source point with the same-size target point;
  all_to_all: every (source, target) pair. `explicit` (labels 'm_n' /
  'sK.m_n', or (source layer, target layer) names) overrides `matching`.
  """
  if explicit:
    malformed = [p for p in explicit if not isinstance(p, str)
                 and (not isinstance(p, (tuple, list)) or len(p) != 2)]
    if malformed:
      raise UserError(f"transfer.pairs has entries that are not pair labels or "
                      f"(source, target) pairs: {malformed[:3]}", "write e.g. "
                      "--config.transfer.pairs=\"('1_1',('feature_stage2','feature_block4'))\"")
    return [_entry(e, source_points, target_points) for e in explicit]
  if not source_points:
    raise UserError("the source network has no feature points (layers named "
                    "feature_*)", "pass a .keras source written by this project's "
                    "training, or name its feature layers feature_<name>")
  if matching not in MATCHINGS:
    raise UserError(f"unknown matching '{matching}'",
                    f"use one of {list(MATCHINGS)} or give transfer.pairs")
  if matching == "all_to_all":
    return [Pair(s, t) for s in source_points for t in target_points]
  if matching == "single":
    networks = sorted({p.network for p in source_points})
    candidates = [[p for p in source_points if p.network == n][-1] for n in networks]
  else:
    candidates = list(source_points)
  pairs = [Pair(s, t) for s in candidates for t in target_points if _same_size(s, t)]
  if not pairs:
    raise UserError(
        f"no source point has the spatial size of a target point for "
        f"'{matching}' matching (source {[p.shape[:2] for p in candidates]}, "
        f"target {[p.shape[:2] for p in target_points]})",
        "use all_to_all matching (--config.transfer.matching=all_to_all), "
        "which resizes, or explicit pairs")
  return pairs
