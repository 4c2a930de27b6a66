"""Issue #13: which "where" initialisation should be the default?

L2T-ww (all-to-all) on Fashion-MNIST 0-4 -> 5-9, 25 labels per class
(configs/fmnist_table.py), 5 seeds, with the official random "where" kernel
(lambda starts anywhere from 0 to above 2 per pair) and with the neutral one
(every pair starts at lambda = 1), each learned and with phi frozen at its
start. Frozen and neutral is all-to-all feature matching with uniform
weights: what L2T-ww's learning must beat.

  python main.py --config=configs/where_init.py --workdir=runs/where_init
  python scripts/grid_report.py runs/where_init

The official rows are the same configs as configs/learned_vs_frozen.py's
25-label L2T-ww rows. Measured (10 new runs, 4-6 min each on 2 cores):
official 89.20 +- 0.63 learned, 89.02 +- 1.09 frozen; neutral 88.85 +- 0.37
learned, 88.62 +- 0.65 frozen (docs/results.md).
"""
from configs import fmnist_table

SMOKE = fmnist_table.SMOKE

FROZEN = ("transfer.freeze_meta", True)
NEUTRAL = ("transfer.where_init", "neutral")


def get_config():
  config = fmnist_table.get_config()
  config.data.images_per_class = 25
  config.grid.variants = (
      ("L2T-ww, official where-init", (("method", "l2t_ww"),)),
      ("L2T-ww, official where-init, phi frozen", (("method", "l2t_ww"), FROZEN)),
      ("L2T-ww, neutral where-init", (("method", "l2t_ww"), NEUTRAL)),
      ("L2T-ww, neutral where-init, phi frozen", (("method", "l2t_ww"), NEUTRAL,
                                                 FROZEN)),
  )
  config.grid.column = ""
  config.grid.column_values = ()
  config.grid.seeds = (0, 1, 2, 3, 4)
  return config
