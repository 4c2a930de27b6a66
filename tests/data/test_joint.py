"""L2TL's joint stream: three aligned streams that resume at any step."""
import numpy as np
import pytest

from configs import common
from l2t_tf.data import joint, pipeline
from l2t_tf.errors import UserError


def _l2tl(**overrides):
  config = common.get_base_config().l2tl
  config.source_data.update(loader="embedded", classes=(0, 1, 2), image_size=16,
                            channels=1, images_per_class=20)
  config.update(batch_multiplier=2, policy_batch_size=8, steps_per_epoch=4)
  config.update(overrides)
  return config


def _target():
  data = common.get_base_config().data
  data.update(loader="digits", images_per_class=5, val_per_class=3, image_size=16,
              channels=1)
  return pipeline.build_datasets(data, 4, seed=0)


def _flatten(dataset):
  return [np.concatenate([part[1].numpy() for part in element])
          for element in dataset]


def test_streams_have_their_batch_sizes_and_resume_mid_epoch():
  datasets, class_names = joint.add_source(_target(), _l2tl(), 3, seed=0)
  assert datasets.steps_per_epoch == 4 and class_names == ["T-shirt/top", "Trouser", "Pullover"]
  assert datasets.sizes["source_train"] == 60
  whole = list(datasets.train_from(0, 0, 6))
  assert len(whole) == 24  # 60 source images give 10 full batches of 6: 3 passes
  (target, _), (source, source_labels), (val, _) = whole[0]
  assert (target.shape[0], source.shape[0], val.shape[0]) == (4, 6, 8)
  assert set(np.concatenate([e[1][1].numpy() for e in whole])) == {0, 1, 2}
  resumed = _flatten(datasets.train_from(2, 3, 6))  # epoch 2, step 3
  for a, b in zip(resumed, _flatten(whole[11:]), strict=True):
    np.testing.assert_array_equal(a, b)


def test_source_images_must_fit_the_target_encoder():
  with pytest.raises(UserError, match="shares one encoder"):
    joint.add_source(_target(), _l2tl(source_data={"image_size": 32}), 3, seed=0)


def test_a_source_smaller_than_one_batch_is_refused():
  with pytest.raises(UserError, match="batch_multiplier"):
    joint.add_source(_target(), _l2tl(batch_multiplier=40), 3, seed=0)


def test_the_default_reward_batch_is_the_whole_validation_set_every_step():
  datasets, _ = joint.add_source(_target(), _l2tl(policy_batch_size=0), 3, seed=0)
  steps = list(datasets.train_from(0, 0, 2))
  first = steps[0][2]
  assert first[0].shape[0] == datasets.sizes["val"] == 30
  for _, _, (images, labels) in steps[1:]:
    np.testing.assert_array_equal(images.numpy(), first[0].numpy())
    np.testing.assert_array_equal(labels.numpy(), first[1].numpy())


def test_a_reward_batch_larger_than_the_validation_set_is_refused():
  with pytest.raises(UserError, match="validation set has 30 images"):
    joint.add_source(_target(), _l2tl(policy_batch_size=31), 3, seed=0)
