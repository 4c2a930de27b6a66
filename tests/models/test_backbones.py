import keras
import ml_collections
import numpy as np
import pytest

from l2t_tf.errors import UserError
from l2t_tf.models import backbones
from l2t_tf.models.layers import BatchNorm


@pytest.mark.parametrize("name, points, trainable", [
    # Trainable counts by hand: stem 432 + 16 bias + 32 BN; a 16-channel block
    # 2*2304 + 64; the first block of stage 2 4608 + 9216 + 128 + 512 + 64
    # (1x1 projection), later ones 2*9216 + 128; stage 3 likewise; head 650.
    ("resnet20", [(32, 32, 16), (16, 16, 32), (8, 8, 64)],
     480 + 3 * 4672 + 14528 + 2 * 18560 + 57728 + 2 * 73984 + 650),
    ("resnet32", [(32, 32, 16), (16, 16, 32), (8, 8, 64)],
     480 + 5 * 4672 + 14528 + 4 * 18560 + 57728 + 4 * 73984 + 650),
    ("resnet56", [(32, 32, 16), (16, 16, 32), (8, 8, 64)], None),
    ("vgg9", [(32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512), (2, 2, 512)],
     None),
])
def test_cifar_backbones_feature_points(name, points, trainable):
  model = backbones.BACKBONES[name](num_classes=10, input_shape=(32, 32, 3))
  extractor = backbones.feature_extractor(model)
  logits, *maps = extractor(np.zeros((2, 32, 32, 3), np.float32))
  assert logits.shape == (2, 10)
  assert [tuple(m.shape[1:]) for m in maps] == points
  if trainable is not None:
    count = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert count == trainable


def test_resnet_stride2_padding_is_symmetric():
  # PyTorch's stride-2 3x3 conv with padding 1 centres output (0, 0) on input
  # pixel (0, 0); TF's 'same' would centre it on (1, 1). An impulse at (0, 0)
  # through a kernel that is 1 at its centre only must reach output (0, 0).
  model = backbones.BACKBONES["resnet20"](num_classes=2, input_shape=(8, 8, 3))
  pad = model.get_layer("stage2_block0_a_pad")
  conv = model.get_layer("stage2_block0_a_conv")
  probe = keras.Sequential([keras.Input((4, 4, 1)),
                            keras.layers.ZeroPadding2D(pad.padding),
                            keras.layers.Conv2D(1, 3, strides=conv.strides,
                                                padding=conv.padding,
                                                use_bias=False)])
  kernel = np.zeros((3, 3, 1, 1), np.float32)
  kernel[1, 1] = 1.0
  probe.layers[-1].set_weights([kernel])
  image = np.zeros((1, 4, 4, 1), np.float32)
  image[0, 0, 0, 0] = 1.0
  assert probe(image)[0, 0, 0, 0] == 1.0


def test_imagenet_resnet18_points():
  # The official code pairs the four stage outputs; the stem is an option.
  model = backbones.BACKBONES["resnet18"](num_classes=5, input_shape=(64, 64, 3),
                                          width=0.25)
  maps = backbones.feature_extractor(model)(np.zeros((1, 64, 64, 3)))[1:]
  assert [tuple(m.shape[1:3]) for m in maps] == [(16, 16), (8, 8), (4, 4), (2, 2)]
  with_stem = backbones.BACKBONES["resnet18"](num_classes=5, input_shape=(64, 64, 3),
                                              width=0.25, stem_point=True)
  assert backbones.feature_points(with_stem)[0] == "feature_stem"
  assert len(backbones.feature_points(with_stem)) == 5


def test_width_multiplier():
  model = backbones.BACKBONES["vgg9"](num_classes=3, input_shape=(32, 32, 3),
                                      width=0.25)
  maps = backbones.feature_extractor(model)(np.zeros((1, 32, 32, 3)))[1:]
  assert [m.shape[-1] for m in maps] == [16, 32, 64, 128, 128]


def test_keras_application_as_source():
  model = backbones.keras_application("MobileNetV2", 4, (32, 32, 3),
                                      ["block_3_expand_relu", "out_relu"])
  assert backbones.feature_points(model) == ["feature_block_3_expand_relu",
                                             "feature_out_relu"]
  logits, *maps = backbones.feature_extractor(model)(np.zeros((1, 32, 32, 3)))
  assert logits.shape == (1, 4) and len(maps) == 2


def test_feature_points_survive_save_and_load(tmp_path):
  model = backbones.BACKBONES["resnet20"](num_classes=3, input_shape=(16, 16, 3),
                                          width=0.25)
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = keras.saving.load_model(path)
  assert backbones.feature_points(loaded) == backbones.feature_points(model)
  x = np.random.RandomState(0).normal(size=(2, 16, 16, 3)).astype(np.float32)
  np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
  assert any(isinstance(l, BatchNorm) for l in loaded.layers)


@pytest.mark.parametrize("name, width, message", [
    ("resnet33", 1.0, "unknown model"),
    ("vgg9", 0.0, "width must be positive"),
    ("keras:NoSuchNet", 1.0, "no model"),
])
def test_bad_model_config(name, width, message):
  config = ml_collections.ConfigDict(dict(name=name, width=width,
                                          feature_layers=(), weights=""))
  with pytest.raises(UserError, match=message):
    backbones.build_backbone(config, 10, (32, 32, 3))


def test_unknown_feature_point():
  model = backbones.BACKBONES["vgg9"](num_classes=3, input_shape=(32, 32, 3),
                                      width=0.125)
  with pytest.raises(UserError, match="no feature points"):
    backbones.feature_extractor(model, ["feature_stage9"])


def test_a_pretrained_classifier_becomes_a_logits_head():
  """L2TL's h_S from an application's own head: same weights, no softmax."""
  full = keras.applications.MobileNetV2(include_top=True, weights=None, alpha=0.35,
                                        input_shape=(96, 96, 3), classes=7)
  head = backbones.classifier_from(full, "source_logits")
  features = np.random.default_rng(0).normal(size=(2, full.layers[-1].input.shape[-1]))
  logits = np.asarray(head(features))
  np.testing.assert_allclose(np.asarray(keras.ops.softmax(logits)),
                             np.asarray(full.layers[-1](features)), rtol=1e-5)
  assert head.name == "source_logits" and head.units == 7
