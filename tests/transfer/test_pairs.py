import pytest

from l2t_tf.errors import UserError
from l2t_tf.models import backbones
from l2t_tf.transfer import pairs as pairs_lib
import tiny


@pytest.fixture(scope="module")
def points():
  source = backbones.BACKBONES["resnet32"](num_classes=5, input_shape=(32, 32, 3),
                                           width=0.25)
  target = backbones.BACKBONES["vgg9"](num_classes=5, input_shape=(32, 32, 3),
                                       width=0.125)
  return tiny.points(source, 0), tiny.points(target, -1)


def _labels(pairs):
  return [p.label for p in pairs]


def test_all_to_all_is_15_pairs(points):
  assert len(pairs_lib.build_pairs("all_to_all", *points)) == 15


def test_one_to_one_and_single(points):
  assert _labels(pairs_lib.build_pairs("one_to_one", *points)) == ["1_1", "2_2", "3_3"]
  assert _labels(pairs_lib.build_pairs("single", *points)) == ["3_3"]


def test_explicit_pairs_by_label_and_name(points):
  pairs = pairs_lib.build_pairs("single", *points,
                                explicit=("3_5", ("feature_stage1", "feature_block5")))
  assert _labels(pairs) == ["3_5", "1_5"]
  assert (pairs[0].source.name, pairs[0].target.name) == ("feature_stage3",
                                                          "feature_block5")


def test_a_label_names_the_pair_it_labels_also_for_a_second_source(points):
  source, target = points
  second = [pairs_lib.Point(1, p.name, p.index, p.shape) for p in source]
  every = pairs_lib.build_pairs("all_to_all", source + second, target)
  chosen = pairs_lib.build_pairs("single", source + second, target,
                                 explicit=tuple(p.label for p in every))
  assert chosen == every


def test_positions_are_refused_with_their_label(points):
  with pytest.raises(UserError, match="write its label '3_5'"):
    pairs_lib.build_pairs("single", *points, explicit=((2, 4),))


def test_multi_source_pairs(points):
  source, target = points
  second = [pairs_lib.Point(1, p.name, p.index, p.shape) for p in source]
  pairs = pairs_lib.build_pairs("one_to_one", source + second, target)
  assert _labels(pairs) == ["1_1", "2_2", "3_3", "s1.1_1", "s1.2_2", "s1.3_3"]
  assert len(pairs_lib.build_pairs("all_to_all", source + second, target)) == 30


@pytest.mark.parametrize("explicit, message", [
    (((7, 0),), "gives positions.*label 'm_n'"),
    (("4_1",), "names no pair '4_1'"),
    (("s1.1_1",), "names no pair 's1.1_1'"),
    (("1-1",), "names no pair"),
    ((("feature_stage1", "feature_block9"),), "unknown or ambiguous"),
])
def test_bad_explicit_pairs(points, explicit, message):
  with pytest.raises(UserError, match=message):
    pairs_lib.build_pairs("single", *points, explicit=explicit)


def test_sizes_that_cannot_match(points):
  source, target = points
  small = [pairs_lib.Point(0, "s", 1, (3, 3, 8))]
  with pytest.raises(UserError, match="spatial size"):
    pairs_lib.build_pairs("one_to_one", small, target)


def test_unknown_matching(points):
  with pytest.raises(UserError, match="unknown matching"):
    pairs_lib.build_pairs("some_to_some", *points)
