"""The Python API: a user's own Keras target and source, tf.data, fit and export."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from l2t_tf import api
from l2t_tf.errors import UserError
from l2t_tf.models import backbones


def _user_target(size=16, classes=3) -> keras.Model:
  """A Keras user's own network: plain layers, its own names, no feature_* layers."""
  x = keras.Input((size, size, 3))
  h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(x)
  h = keras.layers.MaxPooling2D(2)(h)
  h = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_b")(h)
  h = keras.layers.GlobalAveragePooling2D()(h)
  return keras.Model(x, keras.layers.Dense(classes, name="logits")(h), name="mine")


def _data(n=24, size=16, classes=3, seed=0):
  rng = np.random.RandomState(seed)
  labels = rng.randint(0, classes, n)
  images = rng.normal(0, 1, (n, size, size, 3)).astype("float32")
  images[..., 0] += labels[:, None, None]  # learnable: the class shifts channel 0
  return images, labels.astype("int64")


@pytest.fixture(name="source_path")
def _source_path(tmp_path):
  keras.utils.set_random_seed(0)
  source = backbones.resnet_cifar(8, num_classes=4, input_shape=(16, 16, 3), width=0.25)
  path = str(tmp_path / "source.keras")
  source.save(path)
  return path


def test_fit_a_users_target_from_a_keras_file_and_export(source_path, tmp_path):
  keras.utils.set_random_seed(1)
  trainer = api.learned_transfer(_user_target(), source_path,
                                 target_layers=["conv_a", "conv_b"],
                                 meta_objective="alignment", meta_set=tf.data.Dataset
                                 .from_tensor_slices(_data(8, seed=2)).batch(4))
  assert len(trainer.pairs) == 2 * 3  # every target layer with each source stage
  assert [p.target.name for p in trainer.pairs[:2]] == ["conv_a", "conv_b"]
  trainer.compile(keras.optimizers.SGD(0.05, momentum=0.9),
                  keras.optimizers.Adam(1e-2))
  phi = [v.numpy().copy() for v in trainer.meta_networks.trainable_variables]
  weights = [v.numpy().copy() for v in trainer.target.trainable_variables]
  train = tf.data.Dataset.from_tensor_slices(_data()).batch(8)
  history = trainer.fit(train, validation_data=train, epochs=2, verbose=0)
  assert np.isfinite(history.history["loss"]).all()
  assert "val_accuracy" in history.history
  assert any(not np.allclose(a, v.numpy())
             for a, v in zip(phi, trainer.meta_networks.trainable_variables))
  assert any(not np.allclose(a, v.numpy())
             for a, v in zip(weights, trainer.target.trainable_variables))
  path = api.export_saved_model(trainer.target, str(tmp_path / "export"),
                                ["a", "b", "c"], image_size=16, channels=3)
  assert path.endswith(os.path.join("target", "1"))
  served = tf.saved_model.load(path).signatures["serving_default"](
      images=tf.zeros((2, 20, 20, 3), tf.uint8))
  assert served["probabilities"].shape == (2, 3)
  assert set(served["top_class_names"].numpy().ravel()) <= {b"a", b"b", b"c"}


def test_frozen_meta_needs_no_meta_set_and_keeps_phi(source_path):
  trainer = api.learned_transfer(_user_target(), [source_path], method="l2t_ww",
                                 target_layers=["conv_a", "conv_b"],
                                 matching="one_to_one",
                                 meta_objective="alignment", freeze_meta=True)
  trainer.compile(keras.optimizers.SGD(0.05), keras.optimizers.Adam(1e-2))
  phi = [v.numpy().copy() for v in trainer.meta_networks.trainable_variables]
  trainer.fit(tf.data.Dataset.from_tensor_slices(_data()).batch(8), epochs=1, verbose=0)
  assert all(np.array_equal(a, v.numpy())
             for a, v in zip(phi, trainer.meta_networks.trainable_variables))


@pytest.mark.parametrize("kwargs, message", [
    ({"target_layers": ["nope"]}, "has no feature points ['nope']"),
    ({"target_layers": []}, "no feature layers named"),
    ({"method": "kd"}, "unknown learned-transfer method 'kd'"),
    ({"where_init": "zero"}, "unknown where_init 'zero'"),
    ({"meta_objective": "alignment"}, "needs a held-out meta_set"),
    ({"source_layers": [None, None]}, "names layers of 2 sources for 1 sources"),
    ({"matching": "one_to_one", "where_activation": "share"},
     "there is only one pair, so its lambda stays 1"),
])
def test_bad_arguments_name_the_problem_and_the_fix(source_path, kwargs, message):
  kwargs = {"target_layers": ["conv_a"], **kwargs}
  with pytest.raises(UserError, match="Fix:") as raised:
    api.learned_transfer(_user_target(), source_path, **kwargs)
  assert message in str(raised.value)


def test_sources_must_take_the_targets_inputs(source_path, tmp_path):
  with pytest.raises(UserError, match=r"takes inputs \(16, 16, 3\) but the target "
                     r"takes \(32, 32, 3\)"):
    api.learned_transfer(_user_target(size=32), source_path, target_layers=["conv_a"])
  with pytest.raises(UserError, match="does not exist"):
    api.learned_transfer(_user_target(), str(tmp_path / "missing.keras"),
                         target_layers=["conv_a"])
