"""A TF Serving client for an exported target: classifies a folder of images.

  python -m l2t_tf.serving_client --images=DIR --server=localhost:8500 \\
      --model=target                          # gRPC PredictRequest per image
  python -m l2t_tf.serving_client --images=DIR --rest   # print REST bodies

Images are sent as their files' bytes to the export's `serve_encoded`
signature, which decodes, resizes and normalises them itself (REST: base64,
{"b64": ...}); `--pixels` sends decoded uint8 pixels to `serving_default`.
Needs `pip install -e ".[serving]"` (tensorflow-serving-api) for gRPC.
"""
import base64
import importlib
import json
import os

from absl import app, flags

from l2t_tf import console
if __name__ == "__main__":
  console.quiet_tensorflow()  # before TensorFlow's import prints its start-up lines

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from l2t_tf import storage  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf import errors  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf.errors import UserError  # pylint: disable=g-import-not-at-top,wrong-import-position

_IMAGES = None
_SERVER = None
_MODEL = None
_PIXELS = None
_SIGNATURE = None
_REST = None
_TIMEOUT = None


def define_flags() -> None:
  """Defines the command line's flags: when run, not when imported."""
  global _IMAGES, _SERVER, _MODEL, _PIXELS, _SIGNATURE, _REST, _TIMEOUT
  _IMAGES = flags.DEFINE_string("images", None, "Folder of PNG/JPEG/BMP/GIF images.")
  _SERVER = flags.DEFINE_string("server", "localhost:8500", "TF Serving gRPC address.")
  _MODEL = flags.DEFINE_string("model", "target", "Model name in TF Serving.")
  _PIXELS = flags.DEFINE_bool("pixels", False, "Send decoded uint8 pixels to "
                              "serving_default instead of the files' bytes to "
                              "serve_encoded.")
  _SIGNATURE = flags.DEFINE_string("signature", "", "Signature name (default: "
                                   "serve_encoded, or serving_default with --pixels).")
  _REST = flags.DEFINE_bool("rest", False, "Print REST request bodies instead of "
                            "calling the server over gRPC.")
  _TIMEOUT = flags.DEFINE_float("timeout", 10.0, "gRPC deadline in seconds.")

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def read_images(folder: str) -> dict[str, tuple[bytes, np.ndarray]]:
  """{file name: (its bytes, uint8 [h, w, c])} for every image in `folder`,
  sorted by name; each is decoded here, so a corrupt file is named before
  any request is sent."""
  if not storage.isdir(folder):
    raise ValueError(f"image folder {folder} does not exist")
  names = sorted(n for n in storage.listdir(folder) if n.lower().endswith(EXTENSIONS))
  if not names:
    raise ValueError(f"no {'/'.join(EXTENSIONS)} images in {folder}")
  images = {}
  for name in names:
    path = os.path.join(folder, name)
    if storage.isdir(path):  # a folder named like an image: not one
      continue
    try:
      data = tf.io.read_file(path)
      images[name] = (data.numpy(), tf.io.decode_image(
          data, expand_animations=False).numpy())
    except tf.errors.InvalidArgumentError:
      raise ValueError(f"{path} is not a readable image (corrupt or "
                       "truncated)") from None
    except tf.errors.NotFoundError:
      raise ValueError(f"{path} cannot be opened (a broken link?)") from None
  if not images:
    raise ValueError(f"no {'/'.join(EXTENSIONS)} image files in {folder}")
  return images


def predict_request(image: bytes | np.ndarray, model: str, signature: str):
  """A tensorflow-serving-api PredictRequest for one image (batch of one):
  encoded bytes go to `image_bytes`, uint8 pixels to `images`."""
  from tensorflow_serving.apis import predict_pb2  # pylint: disable=g-import-not-at-top
  request = predict_pb2.PredictRequest()
  request.model_spec.name = model
  request.model_spec.signature_name = signature
  if isinstance(image, bytes):
    request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto([image]))
  else:
    request.inputs["images"].CopyFrom(tf.make_tensor_proto(image[None], tf.uint8))
  return request


def rest_body(image: bytes | np.ndarray, signature: str) -> str:
  """The JSON body for POST /v1/models/<model>:predict: encoded bytes as
  base64 ({"b64": ...}), uint8 pixels as a nested list."""
  instance = ({"b64": base64.b64encode(image).decode("ascii")}
              if isinstance(image, bytes) else image.tolist())
  return json.dumps({"signature_name": signature, "instances": [instance]})


def _predict_grpc(requests):
  import grpc  # pylint: disable=g-import-not-at-top
  from tensorflow_serving.apis import prediction_service_pb2_grpc  # pylint: disable=g-import-not-at-top
  stub = prediction_service_pb2_grpc.PredictionServiceStub(
      grpc.insecure_channel(_SERVER.value))
  for name, request in requests.items():
    try:
      outputs = stub.Predict(request, _TIMEOUT.value).outputs
    except grpc.RpcError as e:
      raise UserError(
          f"TF Serving at {_SERVER.value} answered {e.code().name} for {name} "
          f"({e.details()})", "start the server (tensorflow_model_server "
          "--port=8500 --model_base_path=EXPORT_BASE/target) or pass --server, "
          "--model and --signature that it serves") from e
    labels = tf.make_ndarray(outputs["top_class_names"])[0]
    scores = tf.make_ndarray(outputs["top_probabilities"])[0]
    print(name, ", ".join(f"{l.decode()} {s:.3f}" for l, s in zip(labels, scores)))


def _installed(*modules: str) -> bool:
  """Whether every module imports (a broken install counts as missing)."""
  try:
    for module in modules:
      importlib.import_module(module)
  except ImportError:
    return False
  return True


@errors.one_line_errors
def main(argv):
  del argv
  try:
    images = read_images(_IMAGES.value or "")
  except ValueError as e:
    raise UserError(str(e), "pass --images=DIR with readable image files") from e
  signature = _SIGNATURE.value or ("serving_default" if _PIXELS.value
                                    else "serve_encoded")
  images = {name: pixels if _PIXELS.value else data
            for name, (data, pixels) in images.items()}
  if _REST.value:
    for image in images.values():
      print(rest_body(image, signature))
    return
  if not _installed("grpc", "tensorflow_serving.apis"):
    raise UserError("the gRPC client needs tensorflow-serving-api, which is not "
                    "installed", 'pip install -e ".[serving]", or pass --rest to '
                    "print REST request bodies instead")
  _predict_grpc({name: predict_request(image, _MODEL.value, signature)
                 for name, image in images.items()})


if __name__ == "__main__":
  define_flags()
  app.run(main)
