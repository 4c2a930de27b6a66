"""Table 3's protocol: meta-networks (per sample) against meta-weights (constants).

Built on configs/stl10.py (STL-10 through TFDS, source from
configs/tinyimagenet_resnet32.py); see l2t_tf/grid.py for the layout:

  python main.py --config=configs/paper_table3.py --workdir=runs/paper_table3 \
      --config.transfer.source_paths="('runs/tiny/model.keras',)"
"""
from configs import stl10


def get_config():
  config = stl10.get_config()
  config.grid.variants = (
      ("L2T-ww, meta-networks", (("method", "l2t_ww"), ("transfer.meta", "networks"))),
      ("L2T-ww, meta-weights", (("method", "l2t_ww"), ("transfer.meta", "constants"))),
  )
  config.grid.seeds = (0, 1, 2)
  return config
