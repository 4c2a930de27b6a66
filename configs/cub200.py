"""The paper's 224x224 setup (Table 1): ImageNet ResNet-34 -> ResNet-18 on CUB-200.

Batch 64, 200 epochs, random-resized-crop training, resize-256 centre-crop
evaluation; validation 5 images per class (1,000, as the official split
files); the 4 stage outputs of each network, 16 all-to-all pairs. The source
is torchvision's ImageNet ResNet-34, converted once:

  # where there is internet: https://download.pytorch.org/models/resnet34-b627a593.pth
  python -m l2t_tf.convert --from=resnet34-b627a593.pth --out=sources/resnet34_imagenet.keras
  python main.py --config=configs/cub200.py --workdir=runs/cub200

The paper reports 65.05 +- 1.19 % (L2T-ww) and 42.15 +- 0.75 % (scratch).
"""
from configs import common

SMOKE = {**common.SMOKE, "data.image_size": 64}

IMAGENET_RESNET34 = "sources/resnet34_imagenet.keras"


def get_config():
  config = common.get_base_config()
  config.method = "l2t_ww"
  config.data.loader = "tfds"
  config.data.name = "caltech_birds2011"
  config.data.val_per_class = 5
  config.data.image_size = 224
  config.data.preprocessing = "imagenet"
  config.data.cache = False
  config.model.name = "resnet18"
  config.train.batch_size = 64
  config.train.epochs = 200
  config.train.schedule_unit = "epoch"  # CosineAnnealingLR stepped per epoch
  config.transfer.matching = "all_to_all"
  config.transfer.source_paths = (IMAGENET_RESNET34,)
  return config
