"""Table 4: the proposed 3-stage bilevel scheme against the original 2-stage one.

CUB-200 by default; the paper's other columns are mit67 and stanford40:

  python main.py --config=configs/paper_table4.py --workdir=runs/table4_cub200
  python main.py --config=configs/paper_table4.py:stanford40 \
      --workdir=runs/table4_stanford40 --config.data.path=/data/Stanford40
"""
from configs import common

SMOKE = common.SMOKE


def get_config(dataset: str = "cub200"):
  config = common.paper_dataset(dataset)
  config.grid.variants = (
      ("L2T-ww, 3-stage (ours)", (("method", "l2t_ww"),
                                  ("transfer.scheme", "three_stage"))),
      ("L2T-ww, 2-stage (original)", (("method", "l2t_ww"),
                                      ("transfer.scheme", "two_stage"))),
  )
  config.grid.seeds = (0, 1, 2)
  return config
