"""Source pretraining offline: ResNet-32 (width 0.5) on Fashion-MNIST classes 0-4.

Reads Debian's dataset-fashion-mnist IDX files (all 6,000 training images of
each class; 500 per class held out for validation). This config produced
l2t_tf/assets/source_resnet32_fmnist_0-4.keras:

  python main.py --config=configs/fashion_mnist_source.py --workdir=/tmp/src
  cp /tmp/src/model.keras l2t_tf/assets/source_resnet32_fmnist_0-4.keras

and `:oracle` the known answers' oracle (issue #24),
l2t_tf/assets/oracle_resnet32_fmnist_5-9.keras:

  python main.py --config=configs/fashion_mnist_source.py:oracle --workdir=/tmp/oracle

and `:scrambled` the harmful known answer's source,
l2t_tf/assets/scrambled_resnet32_fmnist_5-9.keras:

  python main.py --config=configs/fashion_mnist_source.py:scrambled --workdir=/tmp/scrambled

Without the Debian package, --config.data.loader=embedded trains on the
embedded subset (300 images per class) instead. BUILD.md's "Rebuilding the
embedded assets" gives the measured run (the ResNet-20 variant: 4 epochs,
266 s, 92.44 % test accuracy on classes 0-4).
"""
from configs import common, quickstart

SMOKE = {**common.SMOKE, "data.loader": "embedded"}


def get_config(kind: str = "source"):
  """kind: 'source' (classes 0-4), 'oracle' (see _oracle) or 'scrambled'."""
  if kind not in ("source", "oracle", "scrambled"):
    raise ValueError(f"unknown kind '{kind}': use source, oracle or scrambled")
  config = common.get_base_config()
  config.method = "scratch"
  config.data.loader = "idx"
  config.data.path = "/usr/share/datasets/fashion-mnist"
  config.data.classes = (0, 1, 2, 3, 4)
  config.data.val_per_class = 500
  config.model.name = "resnet32"
  config.model.width = 0.5
  config.train.batch_size = 128
  config.train.epochs = 8
  config.train.verbose = 2
  if kind == "scrambled":
    return _scrambled(config)
  return _oracle(config) if kind == "oracle" else config


def _oracle(config):
  """The must-pass known answer's oracle: ResNet-32 on the target classes 5-9.

  Trained on Fashion-MNIST training images the embedded subset does not hold
  (it takes each class's first 300), so the oracle never saw a target image.
  """
  config.data.classes = (5, 6, 7, 8, 9)
  config.data.skip_first_per_class = 300
  config.data.images_per_class = 1000
  config.data.val_per_class = 200
  config.train.epochs = 6
  return config



def _scrambled(config):
  """A harmful source: ResNet-32 that memorised the quickstart target's own
  250 training images under labels permuted at random (its split: the
  quickstart's data settings). Matching its features asks the target to
  encode noise about the very images it must tell apart."""
  target_data = quickstart.get_config().data
  config.data = target_data
  config.data.scramble_train_labels = True
  config.train.batch_size = 50
  config.train.epochs = 100
  config.train.keep_weights = "last"  # validation (true labels) is at chance
  return config
