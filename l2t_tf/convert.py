"""Imports a PyTorch ResNet checkpoint as a `.keras` source with named feature points.

  python -m l2t_tf.convert --from=model_best.pth.tar --out=source.keras
  python -m l2t_tf.convert --from=resnet34.pth --arch=resnet34 --out=r34.keras

Reads the official L2T-ww CIFAR ResNets (`conv1`, `block1`, `blocks2.*`, ...;
ResNet-20/32/56) and torchvision's ImageNet ResNet-18/34 (`conv1`, `layer1.*`,
...). The architecture and class count are read off the checkpoint (`--arch`
and `--num_classes` check them). Needs PyTorch to read the file (`pip install
-e ".[torch]"`); the written source does not.

Inputs of the written model are what the PyTorch model took: RGB in [0, 1]
standardised with ImageNet's mean and std, as `data.preprocessing` does.
"""
import io
import os
import re
import tempfile

from absl import app, flags

from l2t_tf import console
if __name__ == "__main__":
  console.quiet_tensorflow()  # before TensorFlow's import prints its start-up lines

import keras  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from l2t_tf import storage  # pylint: disable=g-import-not-at-top,wrong-import-position
from l2t_tf.errors import UserError, one_line_errors
from l2t_tf.models import backbones

CIFAR = {"resnet20": 20, "resnet32": 32, "resnet56": 56}
TORCHVISION = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}
ARCHS = tuple(CIFAR) + tuple(TORCHVISION)
# Buffers PyTorch saves that have no Keras counterpart.
_IGNORED = re.compile(r"(^|\.)num_batches_tracked$")


def load_state_dict(path: str) -> dict[str, np.ndarray]:
  """The checkpoint's weights as numpy arrays (`state_dict` of a training
  checkpoint, or a bare state dict; DataParallel's `module.` prefix dropped)."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise UserError("reading a PyTorch checkpoint needs PyTorch, which is not "
                    "installed", 'pip install -e ".[torch]"') from None
  if not storage.isfile(path):
    raise UserError(f"checkpoint {path} does not exist",
                    "pass --from=PATH to a .pth / .pth.tar file")
  try:
    checkpoint = torch.load(io.BytesIO(storage.read_bytes(path)),
                            map_location="cpu", weights_only=True)
  except Exception as e:  # not a torch file, truncated, pickled code ...
    raise UserError(f"cannot read {path} as a PyTorch checkpoint "
                    f"({type(e).__name__})", "pass a file written by torch.save "
                    "holding a state dict (weights only)") from None
  if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
    checkpoint = checkpoint["state_dict"]
  if not isinstance(checkpoint, dict) or not all(
      torch.is_tensor(v) for v in checkpoint.values()):
    raise UserError(f"{path} holds no state dict of tensors",
                    "save the model with torch.save(model.state_dict(), PATH)")
  return {k.removeprefix("module."): v.detach().cpu().numpy()
          for k, v in checkpoint.items()}


def detect_arch(weights: dict) -> str:
  """resnet20/32/56 (official CIFAR layout) or resnet18/34 (torchvision layout)."""
  if "block1.conv1.weight" in weights:
    extra = {int(m.group(1)) for k in weights
             if (m := re.match(r"blocks2\.(\d+)\.", k))}
    depth = 6 * (len(extra) + 1) + 2
    for arch, d in CIFAR.items():
      if d == depth:
        return arch
    raise UserError(f"the checkpoint is a CIFAR ResNet-{depth}, which is not "
                    "supported", f"convert one of {list(CIFAR)}")
  if "layer1.0.conv1.weight" in weights:
    if any(k.startswith("layer1.0.conv3") for k in weights):
      raise UserError("the checkpoint is a bottleneck ResNet (50 or deeper)",
                      "convert a ResNet-18/34, or use model.name='keras:ResNet50' "
                      "with Keras's ImageNet weights")
    blocks = tuple(len({int(m.group(1)) for k in weights
                        if (m := re.match(rf"layer{s}\.(\d+)\.", k))})
                   for s in range(1, 5))
    for arch, plan in TORCHVISION.items():
      if plan == blocks:
        return arch
    raise UserError(f"the checkpoint is a basic-block ResNet with {blocks} blocks "
                    "per stage", f"convert one of {list(TORCHVISION)}")
  raise UserError("the checkpoint is neither an official L2T-ww CIFAR ResNet "
                  "('block1.conv1.weight') nor a torchvision ResNet "
                  "('layer1.0.conv1.weight')", f"convert one of {list(ARCHS)}")


def _torch_prefix(arch: str, stage: int, block: int) -> str:
  """The PyTorch module holding the Keras block `stage{stage}_block{block}`."""
  if arch in CIFAR:  # stage s: block{2s-1}, then blocks{2s}.0, .1, ...
    return f"block{2 * stage - 1}" if block == 0 else f"blocks{2 * stage}.{block - 1}"
  return f"layer{stage}.{block}"


_BLOCK_PARTS = {"a_conv": "conv1", "a_bn": "bn1", "b_conv": "conv2", "b_bn": "bn2",
                "proj_conv": "downsample.0", "proj_bn": "downsample.1"}


def torch_module(arch: str, layer_name: str) -> str:
  """The PyTorch module name whose weights the Keras layer takes."""
  fixed = {"stem_conv": "conv1", "stem_bn": "bn1", "logits": "fc"}
  if layer_name in fixed:
    return fixed[layer_name]
  m = re.fullmatch(r"stage(\d+)_block(\d+)_(\w+)", layer_name)
  if not m or m.group(3) not in _BLOCK_PARTS:
    raise ValueError(f"no PyTorch counterpart for layer {layer_name}")
  return (f"{_torch_prefix(arch, int(m.group(1)), int(m.group(2)))}."
          f"{_BLOCK_PARTS[m.group(3)]}")


def _keras_weights(layer, module: str, weights: dict) -> list[np.ndarray]:
  """The layer's weights in Keras order and layout, taken from `weights`."""
  def take(name):
    key = f"{module}.{name}"
    if key not in weights:
      raise UserError(f"the checkpoint has no {key} (for Keras layer {layer.name})",
                      "check --arch against the checkpoint")
    return weights.pop(key)
  if isinstance(layer, keras.layers.BatchNormalization):
    return [take("weight"), take("bias"), take("running_mean"), take("running_var")]
  if isinstance(layer, keras.layers.Conv2D):  # (out, in, kh, kw) -> (kh, kw, in, out)
    kernel = [take("weight").transpose(2, 3, 1, 0)]
    return kernel + ([take("bias")] if layer.use_bias else [])
  if isinstance(layer, keras.layers.Dense):  # (out, in) -> (in, out)
    return [take("weight").T, take("bias")]
  raise ValueError(f"cannot convert a {type(layer).__name__}")


def convert(weights: dict[str, np.ndarray], arch: str | None = None,
            image_size: int | None = None, stem_point: bool = False,
            name: str | None = None) -> keras.Model:
  """A Keras backbone of `arch` carrying the checkpoint's weights.

  Every checkpoint entry must be used exactly once, so a wrong architecture is
  an error, never a silently partial import.
  """
  weights = {k: np.asarray(v) for k, v in weights.items() if not _IGNORED.search(k)}
  found = detect_arch(weights)
  if arch and arch != found:
    raise UserError(f"the checkpoint is a {found}, not a {arch}",
                    f"pass --arch={found} or leave --arch out")
  if "fc.weight" not in weights:
    raise UserError("the checkpoint has no classifier (fc.weight)",
                    "convert a full classification model")
  num_classes = weights["fc.weight"].shape[0]
  size = image_size or (32 if found in CIFAR else 224)
  kwargs = dict(num_classes=num_classes, input_shape=(size, size, 3),
                name=name or found)
  if found in TORCHVISION:
    kwargs["stem_point"] = stem_point
  model = backbones.BACKBONES[found](**kwargs)
  for layer in model.layers:
    if not layer.weights:
      continue
    values = _keras_weights(layer, torch_module(found, layer.name), weights)
    expected = [tuple(w.shape) for w in layer.weights]
    if [v.shape for v in values] != expected:
      raise UserError(f"layer {layer.name} has shapes {expected} but the checkpoint "
                      f"gives {[v.shape for v in values]}",
                      "check --arch against the checkpoint")
    layer.set_weights(values)
  if weights:
    raise UserError(f"{len(weights)} checkpoint entries have no place in a {found}, "
                    f"e.g. {sorted(weights)[0]}", "check --arch against the checkpoint")
  return model


def describe(model: keras.Model) -> str:
  """One line: name, classes, input size and the feature points' shapes."""
  shapes = backbones.feature_shapes(model)
  points = ", ".join(f"{n.removeprefix(backbones.FEATURE_PREFIX)} "
                     f"{s[-1]}@{s[0]}x{s[1]}" for n, s in shapes.items())
  return (f"{model.name}: {model.output_shape[-1]} classes, "
          f"{model.input_shape[1]}x{model.input_shape[2]} inputs, "
          f"{model.count_params() / 1e6:.2f}M parameters; feature points {points}")


def save(model: keras.Model, out: str) -> None:
  """Writes `out` in one step (storage.write), so a failure leaves nothing half-written."""
  folder = os.path.dirname(os.path.abspath(out) if storage.is_local(out) else out)
  if not storage.isdir(folder):
    raise UserError(f"folder {folder} does not exist", "create it or pick another --out")
  with tempfile.TemporaryDirectory() as staging:
    model.save(os.path.join(staging, "model.keras"))
    storage.write(out, storage.read_bytes(os.path.join(staging, "model.keras")))


_FROM = None
_OUT = None
_ARCH = None
_NUM_CLASSES = None
_IMAGE_SIZE = None
_STEM_POINT = None


def define_flags() -> None:
  """Defines the command line's flags: when run, not when imported."""
  global _FROM, _OUT, _ARCH, _NUM_CLASSES, _IMAGE_SIZE, _STEM_POINT
  _FROM = flags.DEFINE_string("from", None, "PyTorch checkpoint (.pth / .pth.tar).")
  _OUT = flags.DEFINE_string("out", None, "Where to write the .keras source.")
  _ARCH = flags.DEFINE_enum("arch", None, list(ARCHS), "Expected architecture "
                            "(default: read off the checkpoint).")
  _NUM_CLASSES = flags.DEFINE_integer("num_classes", None, "Expected class count "
                                      "(default: read off the checkpoint).")
  _IMAGE_SIZE = flags.DEFINE_integer("image_size", None, "Input size of the Keras "
                                     "model (default 32 for CIFAR ResNets, 224 "
                                     "for torchvision's).")
  _STEM_POINT = flags.DEFINE_bool("stem_point", False, "resnet18/34: make the stem "
                                  "output a feature point too.")


def run(source: str, out: str, arch: str | None = None,
        num_classes: int | None = None, image_size: int | None = None,
        stem_point: bool = False) -> keras.Model:
  """Converts `source` to `out`; refuses to overwrite an existing file."""
  if not source or not out:
    raise UserError("--from and --out are required",
                    "pass --from=CHECKPOINT.pth --out=SOURCE.keras")
  out = storage.expand(out)
  if not out.endswith(".keras"):
    raise UserError(f"--out={out} does not end in .keras", "name it SOURCE.keras")
  if storage.exists(out):
    raise UserError(f"{out} exists", "pick another --out or delete it first")
  if image_size is not None and image_size < 32:
    raise UserError(f"--image_size={image_size} is too small", "use 32 or more")
  model = convert(load_state_dict(storage.expand(source)), arch, image_size,
                  stem_point)
  if num_classes is not None and model.output_shape[-1] != num_classes:
    raise UserError(f"the checkpoint has {model.output_shape[-1]} classes, not "
                    f"{num_classes}", "fix --num_classes or leave it out")
  save(model, out)
  return model


@one_line_errors
def main(argv):
  del argv
  model = run(_FROM.value, _OUT.value, _ARCH.value, _NUM_CLASSES.value,
              _IMAGE_SIZE.value, _STEM_POINT.value)
  print(f"wrote {_OUT.value}: {describe(model)}")


if __name__ == "__main__":
  define_flags()
  app.run(main)
