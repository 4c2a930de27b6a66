"""The paper's CIFAR-100 setup (Table 1): TinyImageNet ResNet-32 -> VGG-9, all-to-all.

The authors' TinyImageNet ResNet-32 (shipped) is the source, as in stl10.py:

  python main.py --config=configs/cifar100.py --workdir=runs/cifar100

The paper reports 70.96 +- 0.61 % (L2T-ww) and 67.69 +- 0.22 % (scratch).
"""
from configs import stl10

SMOKE = stl10.SMOKE


def get_config():
  config = stl10.get_config()
  config.data.name = "cifar100"
  config.data.val_per_class = 50
  return config
