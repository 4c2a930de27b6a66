"""Table 1's Stanford Dogs column: ImageNet ResNet-34 -> ResNet-18, as cub200.py.

TFDS `stanford_dogs` (12,000 training images); validation 10 per class
(1,200, as the official split files):

  python main.py --config=configs/stanford_dogs.py --workdir=runs/dogs

The paper reports 78.08 % (L2T-ww) and 58.08 % (scratch).
"""
from configs import cub200

SMOKE = cub200.SMOKE


def get_config():
  config = cub200.get_config()
  config.data.name = "stanford_dogs"
  config.data.val_per_class = 10
  return config
