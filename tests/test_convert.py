"""The PyTorch importer against the official model's outputs and torch's forward pass."""
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch  # the [test] extra installs it (CPU build): these tests run in CI

import l2t_tf
from l2t_tf import convert
from l2t_tf.data import preprocess
from l2t_tf.errors import UserError
from l2t_tf.models import backbones
import torch_resnets

AUTHORS = pathlib.Path(__file__).resolve().parent.parent / "third_party" / "alinlab_l2t_ww"
CHECKPOINT = AUTHORS / "l2tww_tinyimagenet_resnet32.pth.tar"
PARITY = AUTHORS / "l2tww_tinyimagenet_resnet32_parity.npz"
TOLERANCE = 1e-4  # max abs difference the issue allows


def _block_outputs(model: keras.Model) -> list[str]:
  """Every residual block's output, in order (feature points are stage ends)."""
  return [l.name for l in model.layers
          if l.name.endswith("_out") or l.name.startswith(backbones.FEATURE_PREFIX)]


def _outputs(model: keras.Model, names, images) -> list[np.ndarray]:
  probe = keras.Model(model.input, [model.output] + [model.get_layer(n).output
                                                     for n in names])
  return [np.asarray(o) for o in probe(images)]


def _assert_matches_authors(model: keras.Model):
  reference = np.load(PARITY)
  names = _block_outputs(model)
  assert len(names) == 15 and backbones.feature_points(model) == [
      "feature_stage1", "feature_stage2", "feature_stage3"]
  logits, *blocks = _outputs(model, names, reference["input_nhwc"])
  assert np.abs(logits - reference["logits"]).max() <= TOLERANCE
  for i, (name, block) in enumerate(zip(names, blocks)):
    error = np.abs(block - reference[f"feat_{i:02d}"]).max()
    assert error <= TOLERANCE, (name, error)


def test_shipped_source_is_the_authors_network():
  """The packaged .keras reproduces the official PyTorch model (no torch needed)."""
  model = keras.saving.load_model(l2t_tf.ASSETS / l2t_tf.AUTHORS_SOURCE, compile=False)
  _assert_matches_authors(model)


def test_our_preprocessing_is_the_authors():
  """data.preprocessing's scaling is the input normalisation the source was trained on."""
  reference = np.load(PARITY)
  pixels = np.transpose(reference["input_unit_nchw"], (0, 2, 3, 1)) * 255.0
  np.testing.assert_allclose(preprocess.normalize(tf.constant(pixels)),
                             reference["input_nhwc"], atol=1e-5)


def test_converts_the_authors_checkpoint(tmp_path):
  out = tmp_path / "source.keras"
  convert.run(str(CHECKPOINT), str(out), arch="resnet32", num_classes=200)
  _assert_matches_authors(keras.saving.load_model(out, compile=False))


def test_converts_from_and_to_a_filesystem_without_rename(ram):
  """--from and --out on ram:// (as on gs://), read and written through tf.io.gfile."""
  tf.io.gfile.makedirs(ram)
  tf.io.gfile.copy(str(CHECKPOINT), f"{ram}/authors.pth.tar")
  convert.run(f"{ram}/authors.pth.tar", f"{ram}/source.keras")
  _assert_matches_authors(keras.saving.load_model(f"{ram}/source.keras",
                                                  compile=False))
  assert tf.io.gfile.listdir(ram) == ["authors.pth.tar", "source.keras"]


def _compare(torch_model, model: keras.Model, size: int, seed: int = 0):
  images = np.random.default_rng(seed).normal(size=(2, 3, size, size)).astype(np.float32)
  with torch.no_grad():
    logits, features = torch_model(torch.from_numpy(images))
  ours_logits, *ours = _outputs(model, backbones.feature_points(model),
                                images.transpose(0, 2, 3, 1))
  assert len(ours) == len(features)
  for theirs, mine in zip([logits] + features, [ours_logits] + ours):
    theirs = theirs.numpy()
    if theirs.ndim == 4:
      theirs = theirs.transpose(0, 2, 3, 1)
    assert mine.shape == theirs.shape
    scale = max(1.0, np.abs(theirs).max())
    assert np.abs(mine - theirs).max() <= TOLERANCE * scale


@pytest.mark.parametrize("depth", [20, 56])
def test_cifar_resnets_equal_torch(depth):
  reference = torch_resnets.randomise(torch_resnets.CifarResNet(depth, 7), seed=depth)
  model = convert.convert({k: v.numpy() for k, v in reference.state_dict().items()})
  assert model.name == f"resnet{depth}"
  _compare(reference, model, 32)


@pytest.mark.parametrize("arch,size", [("resnet18", 224), ("resnet34", 64)])
def test_torchvision_resnets_equal_torch(arch, size, tmp_path):
  reference = torch_resnets.randomise(
      torch_resnets.TorchvisionResNet(convert.TORCHVISION[arch], 10), seed=1)
  path = tmp_path / "r.pth"
  torch.save(reference.state_dict(), path)
  out = tmp_path / "r.keras"
  convert.run(str(path), str(out), image_size=size)
  model = keras.saving.load_model(out, compile=False)
  assert model.name == arch and backbones.feature_points(model) == [
      f"feature_stage{s}" for s in range(1, 5)]
  _compare(reference, model, size)


def test_stem_point_option():
  reference = torch_resnets.TorchvisionResNet(convert.TORCHVISION["resnet18"], 3)
  weights = {k: v.numpy() for k, v in reference.state_dict().items()}
  model = convert.convert(weights, image_size=64, stem_point=True)
  assert backbones.feature_points(model)[0] == "feature_stem"


def _cifar_weights(depth=20):
  return {k: v.numpy() for k, v in torch_resnets.CifarResNet(depth, 4).state_dict().items()}


def test_wrong_architecture_is_refused():
  with pytest.raises(UserError, match="is a resnet20, not a resnet32"):
    convert.convert(_cifar_weights(), arch="resnet32")
  weights = _cifar_weights()
  weights["extra.weight"] = np.zeros(3)
  with pytest.raises(UserError, match="1 checkpoint entries have no place"):
    convert.convert(weights)
  weights = _cifar_weights()
  del weights["blocks4.1.bn2.running_var"]
  with pytest.raises(UserError, match="no blocks4.1.bn2.running_var"):
    convert.convert(weights)
  with pytest.raises(UserError, match="neither"):
    convert.convert({"features.0.weight": np.zeros((3, 3))})


def test_bad_files_are_refused_and_nothing_is_overwritten(tmp_path):
  not_torch = tmp_path / "notes.pth"
  not_torch.write_text("hello")
  with pytest.raises(UserError, match="cannot read .* as a PyTorch checkpoint"):
    convert.run(str(not_torch), str(tmp_path / "x.keras"))
  with pytest.raises(UserError, match="does not exist"):
    convert.run(str(tmp_path / "missing.pth"), str(tmp_path / "x.keras"))
  existing = tmp_path / "kept.keras"
  existing.write_text("earlier work")
  with pytest.raises(UserError, match="exists"):
    convert.run(str(CHECKPOINT), str(existing))
  assert existing.read_text() == "earlier work"
  with pytest.raises(UserError, match="not 10"):
    convert.run(str(CHECKPOINT), str(tmp_path / "y.keras"), num_classes=10)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.keras", "notes.pth"]


@pytest.mark.slow  # a subprocess, like test_main's
def test_command_line(tmp_path):
  out = tmp_path / "source.keras"
  command = [sys.executable, "-m", "l2t_tf.convert", f"--from={CHECKPOINT}",
             f"--out={out}"]
  done = subprocess.run(command, capture_output=True, text=True, check=False)
  assert done.returncode == 0, done.stderr
  assert "resnet32: 200 classes, 32x32 inputs" in done.stdout
  assert "stage3 64@8x8" in done.stdout
  again = subprocess.run(command, capture_output=True, text=True, check=False)
  assert again.returncode == 2
  assert again.stderr.strip().splitlines() == [
      f"error: {out} exists. Fix: pick another --out or delete it first"]


def test_without_torch_the_error_says_how_to_install_it(monkeypatch, tmp_path):
  monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
  with pytest.raises(UserError, match=r'needs PyTorch.*pip install -e "\.\[torch\]"'):
    convert.run(str(CHECKPOINT), str(tmp_path / "x.keras"))
