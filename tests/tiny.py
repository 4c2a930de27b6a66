"""Tiny networks, configs and data shared by the tests."""
import gzip

import keras
import numpy as np

from l2t_tf.models import backbones
from l2t_tf.models.layers import conv_bn_relu
from l2t_tf.transfer import pairs as pairs_lib


def points(model, network: int):
  """The model's feature Points (network: source index, -1 for the target)."""
  return pairs_lib.points(backbones.feature_shapes(model), network)


def target(batch_norm: bool = True, size: int = 8, classes: int = 3,
           pooling: str = "max") -> keras.Model:
  """conv(-BN)-ReLU [feature_a], pool, conv(-BN)-ReLU [feature_b], GAP, dense."""
  def block(x, name):
    if batch_norm:
      return conv_bn_relu(x, 4, name=name)
    return keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                               name=f"{name}_conv")(x)
  x = keras.Input((size, size, 3))
  h = keras.layers.Identity(name="feature_a")(block(x, "c1"))
  h = (keras.layers.MaxPooling2D if pooling == "max"
       else keras.layers.AveragePooling2D)(2)(h)
  h = keras.layers.Identity(name="feature_b")(block(h, "c2"))
  h = keras.layers.GlobalAveragePooling2D()(h)
  return keras.Model(x, keras.layers.Dense(classes)(h))


def source(size: int = 8) -> keras.Model:
  x = keras.Input((size, size, 3))
  h = keras.layers.Conv2D(5, 3, padding="same", activation="tanh")(x)
  h = keras.layers.Identity(name="feature_s1")(h)
  h = keras.layers.AveragePooling2D(2)(h)
  h = keras.layers.Conv2D(6, 3, padding="same", activation="tanh")(h)
  h = keras.layers.Identity(name="feature_s2")(h)
  h = keras.layers.GlobalAveragePooling2D()(h)
  return keras.Model(x, keras.layers.Dense(2)(h))


def all_to_all(target_model, source_model):
  return pairs_lib.build_pairs("all_to_all", points(source_model, 0),
                               points(target_model, -1))


def batch(n: int = 6, size: int = 8, classes: int = 3, seed: int = 2):
  rng = np.random.RandomState(seed)
  return (rng.normal(size=(n, size, size, 3)).astype(keras.config.floatx()),
          np.arange(n) % classes)


def write_idx(path, array: np.ndarray) -> None:
  """A gzipped unsigned-byte IDX file, as Fashion-MNIST ships them."""
  header = bytes([0, 0, 8, array.ndim]) + b"".join(
      int(d).to_bytes(4, "big") for d in array.shape)
  with gzip.open(path, "wb") as f:
    f.write(header + array.astype(np.uint8).tobytes())


def idx_dataset(folder, train: int = 120, test: int = 40) -> str:
  """Fashion-MNIST's four IDX files with random 28x28 images, labels n % 10."""
  rng = np.random.RandomState(0)
  for prefix, n in (("train", train), ("t10k", test)):
    write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.randint(0, 256, (n, 28, 28)))
    write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
  return str(folder)
