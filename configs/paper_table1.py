"""Table 1's protocol on one of its datasets: every method, 3 seeds.

STL-10 by default (the authors' TinyImageNet ResNet-32 -> VGG-9); append a
dataset of common.PAPER_DATASETS for another column (224x224 ones use the
ImageNet ResNet-34 of configs/cub200.py). See l2t_tf/grid.py for the layout:

  python main.py --config=configs/paper_table1.py --workdir=runs/table1_stl10
  python main.py --config=configs/paper_table1.py:cub200 --workdir=runs/table1_cub200
"""
from configs import common

SMOKE = common.SMOKE


def get_config(dataset: str = "stl10"):
  config = common.paper_dataset(dataset)
  config.grid.variants = (
      ("Scratch", (("method", "scratch"),)),
      ("LwF", (("method", "lwf"),)),
      ("AT (one-to-one)", (("method", "at"),)),
      ("LwF+AT (one-to-one)", (("method", "lwf_at"),)),
      ("FM (single)", (("method", "fm"), ("transfer.matching", "single"))),
      ("FM (one-to-one)", (("method", "fm"), ("transfer.matching", "one_to_one"))),
      ("L2T-w (single)", (("method", "l2t_w"), ("transfer.matching", "single"))),
      ("L2T-w (one-to-one)", (("method", "l2t_w"),
                              ("transfer.matching", "one_to_one"))),
      ("L2T-ww (all-to-all)", (("method", "l2t_ww"),)),
  )
  config.grid.seeds = (0, 1, 2)
  return config
