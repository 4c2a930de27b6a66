"""Functional backbones that name their feature points.

A feature point is a tensor just before a spatial down-scaling, plus the last
one. Each is produced by a layer whose name starts with `feature_` so that
`feature_points(model)` finds them again after saving and loading.
"""
from typing import Callable, Sequence

import keras

from l2t_tf.errors import UserError
from l2t_tf.models.layers import Recipe, conv_bn_relu, recipe_from_config

FEATURE_PREFIX = "feature_"


def _channels(base: int, width: float) -> int:
  return max(1, int(round(base * width)))


def _basic_block(x, filters: int, stride: int, name: str, point: str | None,
                 recipe: Recipe):
  """conv-BN-ReLU, conv-BN, shortcut (1x1 conv + BN where the shape changes), add, ReLU."""
  shortcut = x
  y = conv_bn_relu(x, filters, stride, name=f"{name}_a", recipe=recipe)
  y = conv_bn_relu(y, filters, 1, name=f"{name}_b", relu=False, recipe=recipe)
  if stride != 1 or x.shape[-1] != filters:
    shortcut = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                   kernel_initializer=recipe.conv_kernel(),
                                   name=f"{name}_proj_conv")(x)
    shortcut = recipe.batch_norm(f"{name}_proj_bn")(shortcut)
  y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
  relu_name = f"{FEATURE_PREFIX}{point}" if point else f"{name}_out"
  return keras.layers.ReLU(name=relu_name)(y)


def _stages(x, blocks_per_stage, base_channels, width: float, recipe: Recipe):
  """Residual stages; each but the first starts with stride 2; each output is a point."""
  for stage, (blocks, base) in enumerate(zip(blocks_per_stage, base_channels),
                                         start=1):
    for block in range(blocks):
      stride = 2 if stage > 1 and block == 0 else 1
      point = f"stage{stage}" if block == blocks - 1 else None
      x = _basic_block(x, _channels(base, width), stride,
                       name=f"stage{stage}_block{block}", point=point,
                       recipe=recipe)
  return x


def _classifier(x, num_classes: int, recipe: Recipe, small_normal: bool = False):
  x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
  return recipe.dense(num_classes, x.shape[-1], "logits", small_normal)(x)


def resnet_cifar(depth: int, num_classes: int, input_shape=(32, 32, 3),
                 width: float = 1.0, name: str | None = None,
                 recipe: Recipe = Recipe()) -> keras.Model:
  """CIFAR ResNet (He et al. 2016): 3 stages of (depth-2)/6 basic blocks.

  Feature points: the output of each stage (stage1..stage3).
  """
  if (depth - 2) % 6:
    raise UserError(f"ResNet depth {depth} is not 6n+2",
                    "use 20, 32, 44, 56 or 110")
  blocks = (depth - 2) // 6
  inputs = keras.Input(input_shape, name="image")
  x = conv_bn_relu(inputs, _channels(16, width), name="stem", use_bias=True,
                   recipe=recipe)
  x = _stages(x, (blocks,) * 3, (16, 32, 64), width, recipe)
  return keras.Model(inputs, _classifier(x, num_classes, recipe),
                     name=name or f"resnet{depth}")


def vgg9(num_classes: int, input_shape=(32, 32, 3), width: float = 1.0,
         name: str = "vgg9", recipe: Recipe = Recipe()) -> keras.Model:
  """The 9-layer VGG with BatchNorm of Srinivas & Fleuret (2018).

  Feature points: the 5 tensors just before each max-pool (block1..block5).
  """
  plan = ((64,), (128,), (256, 256), (512, 512), (512, 512))
  inputs = keras.Input(input_shape, name="image")
  x = inputs
  for block, convs in enumerate(plan, start=1):
    for i, base in enumerate(convs):
      x = conv_bn_relu(x, _channels(base, width), name=f"block{block}_{i}",
                       recipe=recipe)
    x = keras.layers.Identity(name=f"{FEATURE_PREFIX}block{block}")(x)
    x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
  return keras.Model(inputs, _classifier(x, num_classes, recipe, small_normal=True),
                     name=name)


def resnet_imagenet(depth: int, num_classes: int, input_shape=(224, 224, 3),
                    width: float = 1.0, name: str | None = None,
                    recipe: Recipe = Recipe(), stem_point: bool = False,
                    ) -> keras.Model:
  """ImageNet ResNet-18/34 with basic blocks (torchvision's layout).

  Feature points: each stage output (stage1..stage4), as the official L2T-ww
  code pairs them; `stem_point` adds the stem output (before its max-pool).
  """
  stage_blocks = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
  if depth not in stage_blocks:
    raise UserError(f"ImageNet ResNet depth {depth} is not supported",
                    "use resnet18 or resnet34, or a keras.applications model")
  inputs = keras.Input(input_shape, name="image")
  x = conv_bn_relu(inputs, _channels(64, width), stride=2, kernel_size=7,
                   name="stem", relu=False, recipe=recipe)
  x = keras.layers.ReLU(name=f"{FEATURE_PREFIX}stem" if stem_point else "stem_relu")(x)
  x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
  x = keras.layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
  x = _stages(x, stage_blocks[depth], (64, 128, 256, 512), width, recipe)
  return keras.Model(inputs, _classifier(x, num_classes, recipe),
                     name=name or f"resnet{depth}")


def keras_application(application: str, num_classes: int, input_shape,
                      feature_layers: Sequence[str], weights: str | None = None,
                      ) -> keras.Model:
  """Any `keras.applications` model with a new head and named feature points.

  Feature points are the given layers of the application, re-exposed as
  identity layers named `feature_<layer>` on the path to the logits.
  """
  constructor = getattr(keras.applications, application, None)
  if constructor is None or not callable(constructor):
    raise UserError(f"keras.applications has no model '{application}'",
                    "use a class name such as ResNet50 or MobileNetV2")
  base = constructor(include_top=False, weights=weights,
                     input_shape=tuple(input_shape))
  missing = [n for n in feature_layers if n not in {l.name for l in base.layers}]
  if missing or not feature_layers:
    raise UserError(f"{application} has no layers {missing or '(none given)'}",
                    "set model.feature_layers to layer names from "
                    "model.summary(), e.g. the last layer of each stage")
  outputs = [base.get_layer(n).output for n in feature_layers]
  extractor = keras.Model(base.input, outputs + [base.output])
  inputs = keras.Input(input_shape, name="image")
  *points, last = extractor(inputs)
  points = [keras.layers.Identity(name=f"{FEATURE_PREFIX}{n}")(p)
            for n, p in zip(feature_layers, points)]
  # Keep the identity layers on the path to the logits so they stay in the model.
  last = keras.layers.Lambda(lambda args: args[0], name="join")([last] + points)
  return keras.Model(inputs, _classifier(last, num_classes, Recipe("keras")),
                     name=application.lower())


def pretrained_classifier(application: str, weights: str | None,
                          name: str = "source_logits") -> keras.layers.Dense:
  """The classifier of a `keras.applications` model (e.g. its ImageNet head),
  as a Dense layer giving logits: L2TL's h_S when the source data is the
  application's own training set."""
  full = getattr(keras.applications, application)(include_top=True, weights=weights)
  return classifier_from(full, name)


def classifier_from(model: keras.Model, name: str) -> keras.layers.Dense:
  """A copy of `model`'s last (Dense) layer without its softmax: logits."""
  last = model.layers[-1]
  if not isinstance(last, keras.layers.Dense):
    raise UserError(f"{model.name} does not end in a Dense classifier",
                    "use an application with include_top support")
  kernel, bias = last.get_weights()
  head = keras.layers.Dense(kernel.shape[-1], name=name)
  head.build((None, kernel.shape[0]))
  head.set_weights([kernel, bias])
  return head


BACKBONES: dict[str, Callable[..., keras.Model]] = {
    "resnet20": lambda **kw: resnet_cifar(20, **kw),
    "resnet32": lambda **kw: resnet_cifar(32, **kw),
    "resnet56": lambda **kw: resnet_cifar(56, **kw),
    "vgg9": lambda **kw: vgg9(**kw),
    "resnet18": lambda **kw: resnet_imagenet(18, **kw),
    "resnet34": lambda **kw: resnet_imagenet(34, **kw),
}
IMAGENET_RESNETS = ("resnet18", "resnet34")


def build_backbone(model_config, num_classes: int, input_shape) -> keras.Model:
  """Builds the backbone named by `model_config.name` (see BACKBONES)."""
  name = model_config.name
  if name.startswith("keras:"):
    return keras_application(name.split(":", 1)[1], num_classes, input_shape,
                             tuple(model_config.feature_layers),
                             weights=model_config.get("weights") or None)
  if name not in BACKBONES:
    raise UserError(f"unknown model '{name}'",
                    f"set model.name to one of {sorted(BACKBONES)} or "
                    "'keras:<ApplicationName>'")
  if model_config.width <= 0:
    raise UserError(f"model.width must be positive, got {model_config.width}",
                    "use e.g. --config.model.width=0.5")
  options = {}
  if name in IMAGENET_RESNETS:
    options["stem_point"] = bool(model_config.get("stem_point", False))
  try:
    return BACKBONES[name](num_classes=num_classes, input_shape=tuple(input_shape),
                           width=model_config.width,
                           recipe=recipe_from_config(model_config), **options)
  except ValueError as e:  # a pooling's output would be empty
    raise UserError(f"model {name} cannot take {input_shape[0]}x{input_shape[1]} "
                    f"images ({str(e).splitlines()[0][:80]})",
                    "raise data.image_size (32 suits every CIFAR-style model)") from None


def feature_points(model: keras.Model) -> list[str]:
  """Names of the model's feature-point layers, in network order."""
  return [l.name for l in model.layers if l.name.startswith(FEATURE_PREFIX)]


def feature_shapes(model: keras.Model, points: Sequence[str] | None = None,
                   ) -> dict[str, tuple]:
  """{feature point name: its output shape without the batch axis}, in network order."""
  extractor = feature_extractor(model, points)
  return {name: tuple(output.shape[1:]) for name, output in
          zip(extractor.output_names[1:], extractor.outputs[1:])}


def feature_extractor(model: keras.Model, points: Sequence[str] | None = None,
                      ) -> keras.Model:
  """A submodel sharing the weights of `model`, returning [logits, *feature maps]."""
  points = list(points) if points else feature_points(model)
  known = {l.name for l in model.layers}
  unknown = [p for p in points if p not in known]
  if unknown:
    raise UserError(f"model {model.name} has no feature points {unknown}",
                    f"use some of {feature_points(model)}")
  # outputs[0]: the logits (a known-answer source also outputs its points).
  outputs = [model.outputs[0]] + [model.get_layer(p).output for p in points]
  return keras.Model(model.input, outputs, name=f"{model.name}_features")
