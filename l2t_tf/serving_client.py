"""A TF Serving client for an exported target: classifies a folder of images.

  python -m l2t_tf.serving_client --images=DIR --server=localhost:8500 \\
      --model=target                          # gRPC PredictRequest per image
  python -m l2t_tf.serving_client --images=DIR --rest   # print REST bodies

Images are sent as decoded uint8 pixels at their own size: the export's
`serving_default` signature does the resizing and normalisation itself.
Needs `pip install -e ".[serving]"` (tensorflow-serving-api) for gRPC.
"""
import json
import os
import sys

from absl import app, flags

from l2t_tf import console
if __name__ == "__main__":
  console.quiet_tensorflow()  # before TensorFlow's import prints its start-up lines

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from l2t_tf import storage  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf.errors import UserError  # pylint: disable=g-import-not-at-top,wrong-import-position

_IMAGES = flags.DEFINE_string("images", None, "Folder of PNG/JPEG/BMP/GIF images.")
_SERVER = flags.DEFINE_string("server", "localhost:8500", "TF Serving gRPC address.")
_MODEL = flags.DEFINE_string("model", "target", "Model name in TF Serving.")
_SIGNATURE = flags.DEFINE_string("signature", "serving_default", "Signature name.")
_REST = flags.DEFINE_bool("rest", False, "Print REST request bodies instead of "
                          "calling the server over gRPC.")
_TIMEOUT = flags.DEFINE_float("timeout", 10.0, "gRPC deadline in seconds.")

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def read_images(folder: str) -> dict[str, np.ndarray]:
  """{file name: uint8 [h, w, c]} for every image in `folder`, sorted by name."""
  if not storage.isdir(folder):
    raise ValueError(f"image folder {folder} does not exist")
  names = sorted(n for n in storage.listdir(folder) if n.lower().endswith(EXTENSIONS))
  if not names:
    raise ValueError(f"no {'/'.join(EXTENSIONS)} images in {folder}")
  images = {}
  for name in names:
    try:
      images[name] = tf.io.decode_image(tf.io.read_file(os.path.join(folder, name)),
                                        expand_animations=False).numpy()
    except tf.errors.InvalidArgumentError:
      raise ValueError(f"{os.path.join(folder, name)} is not a readable image "
                       "(corrupt or truncated)") from None
  return images


def predict_request(image: np.ndarray, model: str, signature: str):
  """A tensorflow-serving-api PredictRequest for one image (batch of one)."""
  from tensorflow_serving.apis import predict_pb2  # pylint: disable=g-import-not-at-top
  request = predict_pb2.PredictRequest()
  request.model_spec.name = model
  request.model_spec.signature_name = signature
  request.inputs["images"].CopyFrom(tf.make_tensor_proto(image[None], tf.uint8))
  return request


def rest_body(image: np.ndarray, signature: str) -> str:
  """The JSON body for POST /v1/models/<model>:predict."""
  return json.dumps({"signature_name": signature,
                     "instances": image[None].tolist()})


def _predict_grpc(requests):
  import grpc  # pylint: disable=g-import-not-at-top
  from tensorflow_serving.apis import prediction_service_pb2_grpc  # pylint: disable=g-import-not-at-top
  stub = prediction_service_pb2_grpc.PredictionServiceStub(
      grpc.insecure_channel(_SERVER.value))
  for name, request in requests.items():
    try:
      outputs = stub.Predict(request, _TIMEOUT.value).outputs
    except grpc.RpcError as e:
      print(f"error: TF Serving at {_SERVER.value} answered {e.code().name} for "
            f"{name} ({e.details()}). Fix: start the server (tensorflow_model_server "
            "--port=8500 --model_base_path=EXPORT_BASE/target) or pass --server, "
            "--model and --signature that it serves", file=sys.stderr)
      sys.exit(2)
    labels = tf.make_ndarray(outputs["top_class_names"])[0]
    scores = tf.make_ndarray(outputs["top_probabilities"])[0]
    print(name, ", ".join(f"{l.decode()} {s:.3f}" for l, s in zip(labels, scores)))


def main(argv):
  del argv
  try:
    images = read_images(_IMAGES.value or "")
  except ValueError as e:
    print(f"error: {e}. Fix: pass --images=DIR with readable image files",
          file=sys.stderr)
    sys.exit(2)
  except UserError as e:  # a filesystem that cannot be reached
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  if _REST.value:
    for image in images.values():
      print(rest_body(image, _SIGNATURE.value))
    return
  _predict_grpc({name: predict_request(image, _MODEL.value, _SIGNATURE.value)
                 for name, image in images.items()})


if __name__ == "__main__":
  app.run(main)
