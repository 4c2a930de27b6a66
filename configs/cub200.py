"""The paper's 224x224 setup (Table 1): ImageNet ResNet-34 -> ResNet-18 on CUB-200.

Batch 64, 200 epochs, random-resized-crop training, resize-256 centre-crop
evaluation. The source is a ResNet-34 saved as .keras by this project (e.g.
trained with --config.model.name=resnet34 on an ImageNet image folder):

  python main.py --config=configs/cub200.py --workdir=runs/cub200 \
      --config.transfer.source_paths="('runs/imagenet_r34/model.keras',)"

The paper reports 65.05 +- 1.19 % (L2T-ww) and 42.15 +- 0.75 % (scratch).
"""
from configs import common


def get_config():
  config = common.get_base_config()
  config.method = "l2t_ww"
  config.data.source = "tfds"
  config.data.name = "caltech_birds2011"
  config.data.val_per_class = 3
  config.data.image_size = 224
  config.data.preprocessing = "imagenet"
  config.data.cache = False
  config.model.name = "resnet18"
  config.train.batch_size = 64
  config.train.epochs = 200
  config.transfer.matching = "all_to_all"
  return config
