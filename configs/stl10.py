"""The paper's STL-10 setup (Table 1): TinyImageNet ResNet-32 -> VGG-9, all-to-all.

STL-10 is resized to 32x32; batch 128, 200 epochs, T = 2, beta = 0.5. Needs
STL-10 prepared for TFDS (or --config.data.download=True with internet) and a
source from configs/tinyimagenet_resnet32.py:

  python main.py --config=configs/stl10.py --workdir=runs/stl10 \
      --config.transfer.source_paths="('runs/tiny/model.keras',)"

The paper reports 78.31 +- 0.21 % (L2T-ww) and 65.18 +- 0.91 % (scratch).
"""
from configs import common


def get_config():
  config = common.get_base_config()
  config.method = "l2t_ww"
  config.data.source = "tfds"
  config.data.name = "stl10"
  config.data.val_per_class = 50
  config.data.image_size = 32
  config.model.name = "vgg9"
  config.train.batch_size = 128
  config.train.epochs = 200
  config.transfer.matching = "all_to_all"
  return config
