"""Table 1's MIT67 (indoor scenes) column: ImageNet ResNet-34 -> ResNet-18.

Not in TFDS: unpack indoorCVPR_09.tar (Images/<class>/*.jpg) and the
standard split lists TrainImages.txt and TestImages.txt (80 / 20 per class)
into one folder. Validation: 8 per class (10 %; the official repository has
no split file for MIT67, and holds out 10 % for CIFAR-100, STL-10 and Dogs).

  python main.py --config=configs/mit67.py --workdir=runs/mit67 \
      --config.data.path=/data/mit67

The paper reports 64.85 % (L2T-ww) and 48.91 % (scratch).
"""
from configs import cub200

SMOKE = cub200.SMOKE


def get_config():
  config = cub200.get_config()
  config.data.loader = "lists"
  config.data.name = "mit67"
  config.data.path = "mit67"
  config.data.image_dir = "Images"
  config.data.split_lists = {"train": "TrainImages.txt", "test": "TestImages.txt"}
  config.data.val_per_class = 8
  return config
