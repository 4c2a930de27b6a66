"""Strategies: one per kind and process (a second MirroredStrategy breaks collectives)."""
from l2t_tf import distribution


def test_a_process_makes_one_mirrored_strategy():
  # Each run of a comparison or grid asks for its strategy; a second
  # MirroredStrategy in one process failed its first all-reduce ("Shape
  # mismatch in the collective instance"), so the first one is reused.
  first = distribution.make_strategy("mirrored")
  assert distribution.make_strategy("mirrored") is first
