"""Table 2: STL-10 with two sources at once, L2T-ww against each source alone, 3 seeds.

The first source is the authors' TinyImageNet ResNet-32 (shipped). The
paper's second source is one of a TinyImageNet ResNet-20, another
TinyImageNet ResNet-32 or a CIFAR-10 ResNet-32, which the authors did not
publish: train it (configs/tinyimagenet_resnet32.py, with
--config.model.name=resnet20, another --config.seed, or CIFAR-10 through
TFDS), then point the config at it:

  python main.py --config=configs/paper_table2.py:runs/cifar10_r32/model.keras \
      --workdir=runs/table2_cifar10

The paper reports 78.31 % with the first source alone and 79.35 / 79.80 /
80.52 % adding the ResNet-20 / ResNet-32 / CIFAR-10 ResNet-32.
"""
from configs import stl10

SMOKE = stl10.SMOKE


def get_config(second_source: str = "runs/source2/model.keras"):
  config = stl10.get_config()
  first = stl10.AUTHORS_SOURCE
  config.transfer.source_paths = (first, second_source)
  config.grid.variants = (
      ("L2T-ww (first source)", (("method", "l2t_ww"),
                                 ("transfer.source_paths", (first,)))),
      ("L2T-ww (second source)", (("method", "l2t_ww"),
                                  ("transfer.source_paths", (second_source,)))),
      ("L2T-ww (both)", (("method", "l2t_ww"),)),
  )
  config.grid.seeds = (0, 1, 2)
  return config
