"""Table 3: meta-networks (per sample) against meta-weights (constants), 3 seeds.

CUB-200 by default; the paper's other columns are mit67 and stanford40. The
meta-weights are built as the official code does (lambda = softplus(10 w)
from w = 0; see transfer/meta_networks.py):

  python main.py --config=configs/paper_table3.py --workdir=runs/table3_cub200
  python main.py --config=configs/paper_table3.py:mit67 --workdir=runs/table3_mit67 \
      --config.data.path=/data/mit67
"""
from configs import common

SMOKE = common.SMOKE


def get_config(dataset: str = "cub200"):
  config = common.paper_dataset(dataset)
  config.grid.variants = (
      ("L2T-ww, meta-networks", (("method", "l2t_ww"), ("transfer.meta", "networks"))),
      ("L2T-ww, meta-weights", (("method", "l2t_ww"), ("transfer.meta", "constants"))),
  )
  config.grid.seeds = (0, 1, 2)
  return config
