"""Source pretraining: CIFAR ResNet-32 on TinyImageNet (200 classes) at 32x32.

Not needed for the paper's experiments: the authors' own network, trained
this way, ships converted in l2t_tf/assets (configs/stl10.py uses it). This
config retrains it, e.g. at another width or seed. The authors' run reached
49.27 % top-1 on TinyImageNet's validation set (best epoch 104; not rerun
here: no TinyImageNet offline).

Expects an image folder laid out as root/train/<wnid>/*.JPEG and
root/val/<wnid>/*.JPEG (move TinyImageNet's val images into class folders
using val_annotations.txt first):

  python main.py --config=configs/tinyimagenet_resnet32.py --workdir=runs/tiny \
      --config.data.path=/data/tiny-imagenet-200
"""
from configs import common

SMOKE = common.SMOKE


def get_config():
  config = common.get_base_config()
  config.method = "scratch"
  config.data.loader = "folder"
  config.data.path = "tiny-imagenet-200"
  config.data.test_split = "val"
  config.data.val_per_class = 10
  config.data.image_size = 32
  config.model.name = "resnet32"
  config.train.batch_size = 128
  config.train.epochs = 200
  return config
