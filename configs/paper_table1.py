"""Table 1's protocol on STL-10 (TinyImageNet ResNet-32 -> VGG-9): every method, 3 seeds.

Built on configs/stl10.py (STL-10 through TFDS, source from
configs/tinyimagenet_resnet32.py); see l2t_tf/grid.py for the layout:

  python main.py --config=configs/paper_table1.py --workdir=runs/paper_table1 \
      --config.transfer.source_paths="('runs/tiny/model.keras',)"
"""
from configs import stl10


def get_config():
  config = stl10.get_config()
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
