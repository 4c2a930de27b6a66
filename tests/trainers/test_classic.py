"""HandCrafted: the baselines' losses are wired with their weights, and a step trains."""
import keras
import numpy as np
import pytest

import tiny
from l2t_tf import optim
from l2t_tf.models import backbones
from l2t_tf.trainers.classic import HandCrafted
from l2t_tf.transfer import attention, distillation, pairs as pairs_lib



def _model(weights, classes=3):
  keras.utils.set_random_seed(0)
  target, source = tiny.target(classes=classes), tiny.source()  # source: 2 classes
  pairs = pairs_lib.build_pairs("one_to_one", tiny.points(source, 0),
                                tiny.points(target, -1))
  model = HandCrafted(target, backbones.feature_extractor(source), pairs, weights,
                      temperature=2.0)
  model.compile(optimizer=optim.SGDL2(learning_rate=0.1, momentum=0.9, l2=1e-4))
  return model


def test_transfer_loss_is_the_weighted_sum_of_the_pure_losses():
  model = _model({"at": 10.0, "lwf": 0.5})
  images, _ = tiny.batch()
  source_logits, *source_maps = model.source(images)
  logits, *rest = model.with_heads(images)
  expected = 0.5 * float(distillation.distillation_loss(  # LwF: no T^2
      rest[-1], source_logits, 2.0, t_squared=False))
  assert len(model.pairs) == 2  # 8x8 and 4x4 points in both networks
  for pair, target_map in zip(model.pairs, rest):
    expected += 10.0 / 2 * float(attention.attention_loss(
        target_map, source_maps[pair.source.index - 1]))
  got = float(model.transfer_loss(images, source_logits, source_maps, logits, rest))
  assert got == pytest.approx(expected, rel=1e-5) and got > 0


@pytest.mark.parametrize("weights", [{"at": 1000.0}, {"lwf": 1.0}, {"kd": 1.0},
                                     {"at": 1000.0, "jm": 1.0}])
def test_a_step_trains_the_target(weights):
  classes = 2 if "kd" in weights else 3  # KD distils a same-task source
  model = _model(weights, classes)
  before = [w.copy() for w in model.target.get_weights()]
  logs = model.train_on_batch(*tiny.batch(classes=classes),
                              return_dict=True)
  assert logs["loss_transfer"] > 0
  assert any(not np.allclose(a, b) for a, b in zip(before, model.target.get_weights()))
  if "lwf" in weights:  # the old-task head is trained too
    assert model.with_heads.get_layer("lwf_head").trainable_variables
