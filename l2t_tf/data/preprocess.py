"""Pure image ops: the paper's 32x32 and 224x224 preprocessing.

`eval_image` is also what the exported serving signature runs in-graph, so
training-time evaluation and serving see identical inputs.
"""
import tensorflow as tf

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
# cifar: 32x32 (resize, pad-and-crop); imagenet: 224x224-style crops (random
# resized crop; resize and centre crop 87.5 %); both standardised with
# ImageNet's mean and std. inception: imagenet's crops, scaled to [-1, 1] as
# Inception-V3's ImageNet weights expect (keras.applications.inception_v3).
MODES = ("cifar", "imagenet", "inception")


def to_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
  """Grayscale to RGB by repetition (or RGB to grayscale)."""
  have = image.shape[-1]
  if have == channels:
    return image
  if have == 1:
    return tf.repeat(image, channels, axis=-1)
  if channels == 1:
    return tf.cast(tf.image.rgb_to_grayscale(image), image.dtype)
  return image[..., :channels]


def normalize(image: tf.Tensor, mode: str = "cifar") -> tf.Tensor:
  """uint8 [0, 255] to float32 standardised with ImageNet's mean and std
  (or to [-1, 1] in the 'inception' mode)."""
  if mode == "inception":
    return tf.cast(image, tf.float32) / 127.5 - 1.0
  image = tf.cast(image, tf.float32) / 255.0
  channels = image.shape[-1]
  mean = tf.constant(MEAN[:channels] if channels == 3 else (sum(MEAN) / 3,))
  std = tf.constant(STD[:channels] if channels == 3 else (sum(STD) / 3,))
  return (image - mean) / std


def resize_uint8(image: tf.Tensor, size: int) -> tf.Tensor:
  """Bilinear resize to size x size (no-op when already that size)."""
  if image.shape[0] == size and image.shape[1] == size:
    return image
  resized = tf.image.resize(image, (size, size), antialias=True)
  return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def resize_shorter_side(image: tf.Tensor, size: int) -> tf.Tensor:
  shape = tf.cast(tf.shape(image)[:2], tf.float32)
  scale = tf.cast(size, tf.float32) / tf.reduce_min(shape)
  new = tf.cast(tf.round(shape * scale), tf.int32)
  return tf.cast(tf.image.resize(image, new, antialias=True), tf.uint8)


def eval_image(image: tf.Tensor, mode: str, size: int, channels: int) -> tf.Tensor:
  """Evaluation preprocessing of one uint8 [h, w, c] image (any h, w)."""
  image = to_channels(image, channels)
  if mode == "cifar":
    image = resize_uint8(image, size)
  else:  # resize 256 (for 224) and centre crop
    image = resize_shorter_side(image, int(round(size * 256 / 224)))
    image = tf.image.resize_with_crop_or_pad(image, size, size)
  image = tf.ensure_shape(image, (size, size, channels))
  return normalize(image, mode)


def train_image(image: tf.Tensor, seed: tf.Tensor, mode: str, size: int,
                channels: int) -> tf.Tensor:
  """Training augmentation of one uint8 image with a stateless [2] seed."""
  image = to_channels(image, channels)
  seeds = tf.random.experimental.stateless_split(seed, 3)
  if mode == "cifar":  # resize, zero-pad 4, random crop, flip (He et al. 2016)
    image = resize_uint8(image, size)
    image = tf.pad(image, ((4, 4), (4, 4), (0, 0)))
    image = tf.image.stateless_random_crop(image, (size, size, channels),
                                           seed=seeds[0])
  else:  # random resized crop (area 8%-100%, aspect 3/4-4/3), then resize
    begin, crop_size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), tf.zeros((1, 0, 4)), seed=seeds[0],
        area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3),
        min_object_covered=0.0, use_image_if_no_bounding_boxes=True)
    image = tf.slice(image, begin, crop_size)
    image = tf.cast(tf.image.resize(image, (size, size)), tf.uint8)
  image = tf.image.stateless_random_flip_left_right(image, seed=seeds[1])
  image = tf.ensure_shape(image, (size, size, channels))
  return normalize(image, mode)
