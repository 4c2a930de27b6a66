"""Offline quick start: scratch vs L2T-ww on the embedded Fashion-MNIST subset.

Source: a ResNet-32 (width 0.5) pretrained by configs/fashion_mnist_source.py
on Fashion-MNIST classes 0-4, shipped in l2t_tf/assets. Target: VGG-9 (width
0.25) on classes 5-9 with 50 labelled images per class (50 more per class
held out for validation, 200 per class for test).

  python main.py --config=configs/quickstart.py --workdir=/tmp/quickstart

runs both methods (a few minutes on 2 CPU cores) and prints their test
accuracy; --config.method=fm (or scratch, l2t_w, l2t_ww) runs one.
"""
from configs import common
import l2t_tf

# The tests' tiny run (tests/cli.py): two classes, 8 images each, one epoch.
SMOKE = {"data.classes": (5, 7), "data.images_per_class": 8, "data.val_per_class": 4,
         "data.image_size": 32, "model.width": 0.0625, "train.batch_size": 8,
         "train.epochs": 1, "train.verbose": 0}


def get_config():
  config = common.get_base_config()
  config.method = ""
  config.compare = ("scratch", "l2t_ww")
  config.data.loader = "embedded"
  config.data.classes = (5, 6, 7, 8, 9)
  config.data.images_per_class = 50
  config.data.val_per_class = 50
  config.model.name = "vgg9"
  config.model.width = 0.25
  config.train.batch_size = 64
  config.train.epochs = 30
  config.train.verbose = 2
  config.transfer.source_paths = (
      l2t_tf.asset("source_resnet32_fmnist_0-4.keras"),)
  config.transfer.matching = "all_to_all"
  # The paper's other meta learning rate (supplementary B gives 1e-3 or 1e-4):
  # this run has 120 steps, where 1e-4 moves lambda by about 0.01 in all.
  config.transfer.meta_learning_rate = 1e-3
  return config
