"""SavedModel export: outputs equal the in-memory target, TF Serving layout, CLI."""
import base64
import json
import os
import subprocess
import sys

import keras
import ml_collections
import numpy as np
import pytest
import tensorflow as tf

import cli
from l2t_tf import export, serving_client
from l2t_tf.data import preprocess
from l2t_tf.errors import UserError
from l2t_tf.models import backbones

CLASSES = ["cat", "dog", "emu"]
DATA = ml_collections.ConfigDict({"image_size": 32, "channels": 3,
                                  "preprocessing": "cifar"})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  keras.utils.set_random_seed(0)
  model_config = ml_collections.ConfigDict({"name": "vgg9", "width": 0.0625,
                                            "feature_layers": (), "weights": ""})
  target = backbones.build_backbone(model_config, len(CLASSES), (32, 32, 3))
  base = str(tmp_path_factory.mktemp("export"))
  path = export.export_target(target, CLASSES, DATA, base, "target")
  return target, base, path, tf.saved_model.load(path)


def _images(shape=(4, 28, 20, 3)):
  return np.random.RandomState(0).randint(0, 256, shape).astype(np.uint8)


def test_tf_serving_layout(exported):
  _, base, path, _ = exported
  assert path == os.path.join(base, "target", "1")
  assert os.path.exists(os.path.join(path, "saved_model.pb"))
  with open(os.path.join(path, "assets.extra", "class_names.txt")) as f:
    assert f.read().split() == CLASSES
  assert [n for n in os.listdir(os.path.join(base, "target"))] == ["1"]


def test_raw_uint8_signature_equals_in_memory_model(exported):
  target, _, _, loaded = exported
  images = _images()
  out = loaded.signatures["serving_default"](images=tf.constant(images))
  inputs = tf.stack([preprocess.eval_image(tf.constant(i), "cifar", 32, 3)
                     for i in images])
  expected = tf.nn.softmax(target(inputs, training=False)).numpy()
  np.testing.assert_allclose(out["probabilities"].numpy(), expected, atol=1e-5)
  top = np.argsort(-expected, axis=1)
  np.testing.assert_array_equal(out["top_classes"].numpy(), top)
  assert out["top_class_names"].numpy()[0, 0].decode() == CLASSES[top[0, 0]]


def test_grayscale_and_rgba_are_converted(exported):
  *_, loaded = exported
  serve = loaded.signatures["serving_default"]
  gray = _images((2, 16, 16, 1))
  from_gray = serve(images=tf.constant(gray))["probabilities"]
  from_rgb = serve(images=tf.constant(np.repeat(gray, 3, -1)))["probabilities"]
  np.testing.assert_allclose(from_gray, from_rgb, atol=1e-6)
  rgba = np.concatenate([_images((2, 16, 16, 3)), _images((2, 16, 16, 1))], -1)
  np.testing.assert_allclose(serve(images=tf.constant(rgba))["probabilities"],
                             serve(images=tf.constant(rgba[..., :3]))["probabilities"],
                             atol=1e-6)


def test_preprocessed_signature_equals_in_memory_model(exported):
  target, _, _, loaded = exported
  inputs = np.random.RandomState(1).normal(size=(3, 32, 32, 3)).astype(np.float32)
  out = loaded.signatures["serve_preprocessed"](inputs=tf.constant(inputs))
  np.testing.assert_allclose(out["probabilities"].numpy(),
                             tf.nn.softmax(target(inputs)).numpy(), atol=1e-5)


def test_encoded_signature_equals_the_pixel_one_on_mixed_images(exported):
  """PNG and JPEG bytes of other sizes and channels in one request."""
  *_, loaded = exported
  pixels = [_images((1, 20, 24, 3))[0], _images((1, 40, 16, 1))[0]]
  encoded = [tf.io.encode_png(pixels[0]).numpy(), tf.io.encode_jpeg(pixels[1]).numpy()]
  got = loaded.signatures["serve_encoded"](image_bytes=tf.constant(encoded))
  decoded_jpeg = tf.io.decode_jpeg(encoded[1])[None]  # JPEG is lossy: its pixels
  for i, image in enumerate([tf.constant(pixels[0])[None], decoded_jpeg]):
    want = loaded.signatures["serving_default"](images=image)
    np.testing.assert_allclose(got["probabilities"][i], want["probabilities"][0],
                               atol=1e-5)
  with pytest.raises(tf.errors.InvalidArgumentError):
    loaded.signatures["serve_encoded"](image_bytes=tf.constant([b"not an image"]))


def test_warmup_requests_replay_on_the_export_in_a_fresh_process(exported):
  """What TF Serving does on load: each PredictionLog's request, run on its
  signature, in a process that never imported l2t_tf."""
  _, _, path, _ = exported
  script = """
import sys
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2
loaded = tf.saved_model.load(sys.argv[1])
signatures = []
for record in tf.data.TFRecordDataset(sys.argv[1] + "/assets.extra/tf_serving_warmup_requests"):
  request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
  inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
  out = loaded.signatures[request.model_spec.signature_name](**inputs)
  assert abs(float(tf.reduce_sum(out["probabilities"])) - 1) < 1e-4
  signatures.append(request.model_spec.signature_name)
print(",".join(signatures))
"""
  result = subprocess.run([sys.executable, "-c", script, path], capture_output=True,
                          text=True, env=cli.env(), timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.split() == ["serving_default,serve_encoded"]


@pytest.mark.parametrize("images, message", [
    (_images().astype(np.float32), "expected to be a uint8 tensor"),
    (_images()[0], r"not compatible with expected shape \[\?,\?,\?,\?\]"),
    (_images((1, 8, 8, 2)), "images must have 1, 3 or 4 channels"),
    (_images((0, 8, 8, 3)), "the batch is empty"),
])
def test_bad_serving_input_is_a_clear_error(exported, images, message):
  *_, loaded = exported
  with pytest.raises(tf.errors.InvalidArgumentError, match=message):
    loaded.signatures["serving_default"](images=tf.constant(images))


def test_serving_client_names_an_unreadable_image(tmp_path):
  (tmp_path / "0.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
  with pytest.raises(ValueError, match="0.png is not a readable image"):
    serving_client.read_images(str(tmp_path))


def test_serving_client_skips_folders_and_names_a_broken_link(tmp_path):
  """Issue #25: a sub-folder named sub.png and a dangling link were tracebacks."""
  (tmp_path / "sub.png").mkdir()
  with pytest.raises(ValueError, match="no .* image files in"):
    serving_client.read_images(str(tmp_path))
  (tmp_path / "1.png").write_bytes(tf.io.encode_png(_images((8, 8, 3))).numpy())
  assert list(serving_client.read_images(str(tmp_path))) == ["1.png"]
  os.symlink(tmp_path / "gone.png", tmp_path / "2.png")
  with pytest.raises(ValueError, match="2.png cannot be opened .a broken link"):
    serving_client.read_images(str(tmp_path))


def test_serving_client_without_tensorflow_serving_api_is_one_line(tmp_path):
  (tmp_path / "1.png").write_bytes(tf.io.encode_png(_images((8, 8, 3))).numpy())
  blocker = tmp_path / "site" / "tensorflow_serving"
  blocker.mkdir(parents=True)
  (blocker / "__init__.py").write_text("raise ImportError('not installed')")
  result = subprocess.run(
      [sys.executable, "-m", "l2t_tf.serving_client", f"--images={tmp_path}"],
      capture_output=True, text=True, cwd=cli.ROOT, timeout=300,
      env=cli.env(PYTHONPATH=str(tmp_path / "site")))
  assert result.returncode == 2
  assert cli.error_lines(result) == result.stderr.strip().splitlines()
  assert "needs tensorflow-serving-api" in result.stderr


def test_serving_client_reads_any_filesystem_and_names_one_it_cannot_reach(ram):
  tf.io.gfile.makedirs(ram)
  tf.io.write_file(f"{ram}/0.png", tf.io.encode_png(_images((1, 8, 8, 3))[0]))
  assert serving_client.read_images(ram)["0.png"][1].shape == (8, 8, 3)
  with pytest.raises(UserError, match="cannot reach foo://images"):
    serving_client.read_images("foo://images")


def test_serving_client_against_a_server_that_is_down_is_one_line(tmp_path):
  tf.io.write_file(str(tmp_path / "0.png"), tf.io.encode_png(_images((1, 8, 8, 3))[0]))
  ran = subprocess.run([sys.executable, "-m", "l2t_tf.serving_client",
                        f"--images={tmp_path}", "--server=localhost:1",
                        "--timeout=5"], capture_output=True, text=True,
                       cwd=cli.ROOT, env=cli.env(), timeout=120)
  assert ran.returncode == 2
  errors = [l for l in ran.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1 and "UNAVAILABLE" in errors[0] and "Fix:" in errors[0]
  assert "Traceback" not in ran.stderr


def test_versions_grow_and_are_never_overwritten(exported, tmp_path):
  target, *_ = exported
  first = export.export_target(target, CLASSES, DATA, str(tmp_path), "m")
  stamp = os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns
  second = export.export_target(target, CLASSES, DATA, str(tmp_path), "m")
  assert (first, second) == (str(tmp_path / "m" / "1"), str(tmp_path / "m" / "2"))
  with pytest.raises(UserError, match="already exists"):
    export.export_target(target, CLASSES, DATA, str(tmp_path), "m", version=1)
  assert os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns == stamp
  assert sorted(os.listdir(tmp_path / "m")) == ["1", "2"]  # no temporary left


def _finished_run(target, workdir) -> None:
  """What export_workdir reads of a finished run."""
  os.makedirs(workdir)
  target.save(os.path.join(workdir, "model.keras"))
  with open(os.path.join(workdir, "config.json"), "w") as f:
    json.dump({"data": DATA.to_dict(), "export": {"base_dir": "",
                                                  "model_name": "target"}}, f)
  with open(os.path.join(workdir, "results.json"), "w") as f:
    json.dump({"class_names": CLASSES}, f)


def test_an_export_of_a_run_holds_its_lock_and_clears_a_killed_exports_folder(
    exported, tmp_path):
  """Issue #25: a .tmp-* folder of an export killed midway stayed for good;
  two exports of one workdir at once ended in 'Directory not empty'."""
  from l2t_tf import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  target, *_ = exported
  workdir = str(tmp_path / "run")
  _finished_run(target, workdir)
  killed = tmp_path / "run" / "export" / "target" / ".tmp-killed"
  killed.mkdir(parents=True)
  assert export.export_workdir(workdir) == f"{workdir}/export/target/1"
  assert not killed.exists()
  with workdir_lib.lock(workdir):  # another export (or run) of it is under way
    with pytest.raises(UserError, match="in use by process"):
      export.export_workdir(workdir)
  assert sorted(os.listdir(tmp_path / "run" / "export" / "target")) == ["1"]


def _cli(*args):
  cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
  return subprocess.run([cli, *args], capture_output=True, text=True, timeout=300,
                        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def test_saved_model_cli_show_and_run(exported, tmp_path):
  _, _, path, loaded = exported
  shown = _cli("show", "--dir", path, "--all")
  assert shown.returncode == 0, shown.stderr[-1000:]
  for text in ("signature_def['serving_default']", "DT_UINT8",
               "signature_def['serve_preprocessed']", "top_class_names"):
    assert text in shown.stdout
  images = _images((2, 24, 24, 3))
  np.save(tmp_path / "images.npy", images)
  ran = _cli("run", "--dir", path, "--tag_set", "serve", "--signature_def",
             "serving_default", "--inputs", f"images={tmp_path / 'images.npy'}",
             "--outdir", str(tmp_path / "out"))
  assert ran.returncode == 0, ran.stderr[-1000:]
  np.testing.assert_allclose(
      np.load(tmp_path / "out" / "probabilities.npy"),
      loaded.signatures["serving_default"](images=tf.constant(images))
      ["probabilities"].numpy(), atol=1e-6)


def test_serving_client_requests_round_trip(exported, tmp_path):
  *_, loaded = exported
  images = _images((2, 20, 24, 3))
  for i, image in enumerate(images):
    tf.io.write_file(str(tmp_path / f"{i}.png"), tf.io.encode_png(image))
  read = serving_client.read_images(str(tmp_path))
  assert list(read) == ["0.png", "1.png"]
  data, pixels = read["1.png"]
  np.testing.assert_array_equal(pixels, images[1])
  request = serving_client.predict_request(data, "target", "serve_encoded")
  assert request.model_spec.name == "target"
  sent = tf.make_ndarray(request.inputs["image_bytes"])
  # What TF Serving would compute from that request, against the pixels:
  out = loaded.signatures["serve_encoded"](image_bytes=tf.constant(sent))
  want = loaded.signatures["serving_default"](images=tf.constant(images[1:2]))
  np.testing.assert_allclose(out["probabilities"], want["probabilities"], atol=1e-5)
  request = serving_client.predict_request(pixels, "target", "serving_default")
  np.testing.assert_array_equal(tf.make_ndarray(request.inputs["images"]),
                                images[1:2])
  body = json.loads(serving_client.rest_body(read["0.png"][0], "serve_encoded"))
  assert body["signature_name"] == "serve_encoded"
  assert base64.b64decode(body["instances"][0]["b64"]) == read["0.png"][0]
  body = serving_client.rest_body(read["0.png"][1], "serving_default")
  assert np.array_equal(np.array(json.loads(body)["instances"]), images[:1])
