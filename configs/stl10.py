"""The paper's STL-10 setup (Table 1): TinyImageNet ResNet-32 -> VGG-9, all-to-all.

The source is the authors' own TinyImageNet ResNet-32, shipped converted in
l2t_tf/assets (MIT; `python -m l2t_tf.convert` made it from their checkpoint).
STL-10 is resized to 32x32; batch 128, 200 epochs, T = 2, beta = 0.5. Needs
STL-10 prepared for TFDS (`tfds build stl10 --data_dir=DIR` where there is
internet, then --config.data.data_dir=DIR), or --config.data.download=True:

  python main.py --config=configs/stl10.py --workdir=runs/stl10

The paper reports 78.31 +- 0.21 % (L2T-ww) and 65.18 +- 0.91 % (scratch).
docs/reproduce.md lists the commands for every table and what still differs.
"""
import l2t_tf
from configs import common

SMOKE = common.SMOKE

AUTHORS_SOURCE = l2t_tf.asset(l2t_tf.AUTHORS_SOURCE)


def get_config():
  config = common.get_base_config()
  config.method = "l2t_ww"
  config.data.loader = "tfds"
  config.data.name = "stl10"
  config.data.val_per_class = 50
  config.data.image_size = 32
  config.model.name = "vgg9"
  config.train.batch_size = 128
  config.train.epochs = 200
  config.train.schedule_unit = "epoch"  # CosineAnnealingLR stepped per epoch
  config.transfer.matching = "all_to_all"
  config.transfer.source_paths = (AUTHORS_SOURCE,)
  return config
