"""SavedModel export of the target network for TF Serving.

Layout: `<base>/<model_name>/<version>/` with an integer version that only grows,
published whole (storage.publish_folder). On a local disk the version is
renamed into place, so TF Serving (which watches the folder) never sees half a
model. On an object store (gs://) its files are uploaded with saved_model.pb
last: TF Serving may try the version before that file arrives, and then
retries the load (5 times, a minute apart, by default).

Signatures:
  serving_default     images: uint8 [batch, height, width, 1|3|4], any size.
                      The evaluation preprocessing (channel conversion,
                      resize/crop, normalisation) runs inside the graph.
  serve_encoded       image_bytes: string [batch], each a JPEG, PNG, GIF or
                      BMP file's bytes (base64 over REST: {"b64": ...}); the
                      images of a request may differ in size and channels.
  serve_preprocessed  inputs: float32 [batch, size, size, channels], already
                      preprocessed as in training.
All return probabilities, top_classes (int64, best first), top_probabilities
and top_class_names, so the class names travel with the model.
`assets.extra/tf_serving_warmup_requests` holds one request per image
signature, which TF Serving replays when it loads the version (written when
tensorflow-serving-api is installed: the `[serving]` extra).
"""
import os

from absl import logging
import keras
import tensorflow as tf

from l2t_tf import storage
from l2t_tf import workdir as workdir_lib
from l2t_tf.data import preprocess
from l2t_tf.errors import UserError
from l2t_tf.models import layers  # pylint: disable=unused-import (registers BatchNorm)

TOP_K = 5


def _match_channels(images: tf.Tensor, channels: int) -> tf.Tensor:
  """uint8 images with 1, 3 or 4 (RGBA) channels to `channels` channels."""
  have = tf.shape(images)[-1]
  # The check runs first: otherwise ensure_shape's error may win the race.
  with tf.control_dependencies([tf.debugging.Assert(
      tf.reduce_any(tf.equal(have, [1, 3, 4])),
      ["images must have 1, 3 or 4 channels, got", have])]):
    images = tf.identity(images)
  if channels == 3:
    out = tf.cond(have == 1, lambda: tf.repeat(images, 3, axis=-1),
                  lambda: images[..., :3])
  else:
    out = tf.cond(have == 1, lambda: images,
                  lambda: tf.image.rgb_to_grayscale(images[..., :3]))
  return tf.ensure_shape(out, [None, None, None, channels])


def serving_archive(target: keras.Model, class_names, data_config
                    ) -> keras.export.ExportArchive:
  """The target with the two serving signatures (see the module docstring)."""
  size, channels = data_config.image_size, data_config.channels
  mode = data_config.preprocessing
  names = tf.constant([str(n) for n in class_names])
  k = min(TOP_K, len(class_names))

  def outputs(logits):
    probabilities = tf.nn.softmax(tf.cast(logits, tf.float32))
    top = tf.math.top_k(probabilities, k)
    return {"probabilities": probabilities,
            "top_classes": tf.cast(top.indices, tf.int64),
            "top_probabilities": top.values,
            "top_class_names": tf.gather(names, top.indices)}

  @tf.function(input_signature=[
      tf.TensorSpec([None, size, size, channels], tf.float32, name="inputs")])
  def serve_preprocessed(inputs):
    return outputs(target(inputs, training=False))

  @tf.function(input_signature=[
      tf.TensorSpec(None, tf.uint8, name="images")])
  def serve_images(images):
    # The rank is left open in the signature and checked here: a saved
    # signature does not check the rank it is fed at run time, and a check
    # against a static rank of 4 would be constant-folded away. The error
    # reads "Shape of tensor images [28,28,1] is not compatible with expected
    # shape [?,?,?,?]".
    images = tf.ensure_shape(images, [None, None, None, None])
    with tf.control_dependencies([tf.debugging.assert_positive(
        tf.shape(images)[0], message="images: the batch is empty; send at least "
        "one image")]):
      images = tf.identity(images)
    images = _match_channels(images, channels)
    inputs = tf.map_fn(
        lambda image: preprocess.eval_image(image, mode, size, channels), images,
        fn_output_signature=tf.TensorSpec([size, size, channels], tf.float32))
    return outputs(target(inputs, training=False))

  def one_encoded(image_bytes):
    image = tf.io.decode_image(image_bytes, expand_animations=False)
    image = _match_channels(image[None], channels)[0]
    return preprocess.eval_image(image, mode, size, channels)

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
  def serve_encoded(image_bytes):
    with tf.control_dependencies([tf.debugging.assert_positive(
        tf.shape(image_bytes)[0], message="image_bytes: the batch is empty; "
        "send at least one image")]):
      image_bytes = tf.identity(image_bytes)
    inputs = tf.map_fn(one_encoded, image_bytes, fn_output_signature=tf.TensorSpec(
        [size, size, channels], tf.float32))
    return outputs(target(inputs, training=False))

  archive = keras.export.ExportArchive()
  archive.track(target)
  archive.add_endpoint("serving_default", serve_images)
  archive.add_endpoint(ENCODED_SIGNATURE, serve_encoded)
  archive.add_endpoint("serve_preprocessed", serve_preprocessed)
  return archive


ENCODED_SIGNATURE = "serve_encoded"
WARMUP = os.path.join("assets.extra", "tf_serving_warmup_requests")


def warmup_requests(size: int, channels: int) -> list | None:
  """PredictRequests TF Serving replays on load (a mid-grey image to each
  image signature), or None without tensorflow-serving-api."""
  try:
    from tensorflow_serving.apis import predict_pb2  # pylint: disable=g-import-not-at-top
  except ImportError:
    return None
  image = tf.fill([size, size, channels], tf.constant(128, tf.uint8))
  pixels = predict_pb2.PredictRequest()
  pixels.model_spec.signature_name = "serving_default"
  pixels.inputs["images"].CopyFrom(tf.make_tensor_proto(image[None].numpy()))
  encoded = predict_pb2.PredictRequest()
  encoded.model_spec.signature_name = ENCODED_SIGNATURE
  encoded.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(
      [tf.io.encode_png(image).numpy()]))
  return [pixels, encoded]


def _write_warmup(folder: str, size: int, channels: int) -> None:
  requests = warmup_requests(size, channels)
  if requests is None:
    logging.info("no TF Serving warm-up requests: tensorflow-serving-api is "
                 "not installed (pip install -e \".[serving]\")")
    return
  from tensorflow_serving.apis import prediction_log_pb2  # pylint: disable=g-import-not-at-top
  with tf.io.TFRecordWriter(os.path.join(folder, WARMUP)) as writer:
    for request in requests:
      writer.write(prediction_log_pb2.PredictionLog(
          predict_log=prediction_log_pb2.PredictLog(request=request)
      ).SerializeToString())


def _versions(model_dir: str) -> list[int]:
  if not storage.isdir(model_dir):
    return []
  return sorted(int(n) for n in storage.listdir(model_dir) if n.isdigit())


def check_version_free(base: str, model_name: str, version: int) -> None:
  """Fails before any work if the export folder cannot be written there or an
  explicitly requested version already exists."""
  if version < 0:
    raise UserError(f"export.version must be >= 0, got {version}",
                    "use 0 for the next free version")
  if not model_name or model_name in (".", "..") or "/" in model_name:
    raise UserError(f"export.model_name must be one folder name, got "
                    f"'{model_name}'", "use the name TF Serving serves it by, "
                    "e.g. --config.export.model_name=target")
  _check_writable(base, model_name)
  if version and version in _versions(os.path.join(base, model_name)):
    raise UserError(f"export version {os.path.join(base, model_name, str(version))}"
                    " already exists (versions are never overwritten)",
                    "pass --config.export.version=0 for the next free version")


def _check_writable(base: str, model_name: str) -> None:
  fix = "pass a writable folder (--export_dir, or export.base_dir)"
  if not storage.is_local(base):  # no folders or permissions to inspect there
    if storage.isfile(base) or storage.isfile(os.path.join(base, model_name)):
      raise UserError(f"cannot export under {base}: a file is in the way", fix)
    return
  existing = os.path.abspath(os.path.join(base, model_name))
  while not os.path.exists(existing):  # the nearest folder that exists
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
    raise UserError(f"cannot export under {base}: {existing} is "
                    f"{'a file' if os.path.isfile(existing) else 'not writable'}",
                    fix)


def export_target(target: keras.Model, class_names, data_config, base: str,
                  model_name: str, version: int = 0) -> str:
  """Writes `<base>/<model_name>/<version>/` and returns its path."""
  check_version_free(base, model_name, version)
  model_dir = os.path.join(base, model_name)
  version = version or (max(_versions(model_dir), default=0) + 1)
  final = os.path.join(model_dir, str(version))

  def fill(folder: str) -> None:
    serving_archive(target, class_names, data_config).write_out(folder, verbose=False)
    os.makedirs(os.path.join(folder, "assets.extra"), exist_ok=True)
    with open(os.path.join(folder, "assets.extra", "class_names.txt"), "w",
              encoding="utf-8") as f:
      f.write("\n".join(str(n) for n in class_names) + "\n")
    _write_warmup(folder, data_config.image_size, data_config.channels)

  try:
    storage.publish_folder(final, fill, last=("saved_model.pb",))
  except FileExistsError:  # another process took this version meanwhile
    raise UserError(f"export version {final} appeared while exporting (another "
                    "export into the same folder)",
                    "rerun the export; it picks the next free version") from None
  return final


def export_workdir(workdir: str, base: str = "", model_name: str = "",
                   version: int = 0) -> str:
  """Exports the finished run in `workdir` (its model.keras, config and classes).

  It holds the workdir's lock, so a second export of the same run waits its
  turn (one line), and removes what a killed export or run left there."""
  with workdir_lib.lock(workdir):
    for path in workdir_lib.remove_leftovers(workdir):
      logging.info("removed %s, left by an interrupted write", path)
    return _export_finished(workdir, base, model_name, version)


def _export_finished(workdir: str, base: str, model_name: str, version: int) -> str:
  config = workdir_lib.require(workdir, workdir_lib.CONFIG, ("data", "export"))
  class_names = workdir_lib.require(workdir, workdir_lib.RESULTS,
                                    ("class_names",))["class_names"]
  path = os.path.join(workdir, "model.keras")
  if not storage.exists(path):
    raise UserError(f"{workdir} has no model.keras, so it holds no finished run",
                    "pass the --workdir of a run that finished training")
  try:
    target = keras.saving.load_model(path, compile=False)
  except Exception as e:  # truncated zip, unknown layer ...
    raise UserError(f"cannot read {path} ({type(e).__name__})",
                    "retrain into a new --workdir") from None
  data = _Namespace(config["data"])
  base = base or config["export"]["base_dir"] or os.path.join(workdir, "export")
  return export_target(target, class_names, data, base,
                       model_name or config["export"]["model_name"], version)


class _Namespace:
  """Attribute access to a config dict read back from config.json."""

  def __init__(self, values: dict):
    self.__dict__.update(values)
