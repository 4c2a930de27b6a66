"""Issue #18: robustness at the paper's settings, before and after the reference recipe.

Scratch, FM (one-to-one), L2T-w (one-to-one) and L2T-ww (all-to-all) on
Fashion-MNIST 0-4 -> 5-9 with 25 labels per class (configs/fmnist_table.py),
SGD lr 0.1 from the first step (no warm-up), 5 seeds, with l2t_tf 0.1's
recipe (Keras initialisers and momentum) and with today's default (the
authors' initialisers and PyTorch's momentum rule).

  python main.py --config=configs/robustness.py --workdir=runs/robustness

40 runs; the scratch and FM ones are the same configs as in
configs/recipe_ablation.py. Table and collapse counts: docs/results.md
(`python scripts/grid_report.py runs/robustness`). Measured: runs below
76.2 % 10 of 20 with 0.1's recipe, 0 of 20 with today's; L2T-ww 89.20 +-
0.63 % against scratch 86.24 +- 1.30 % (today's recipe).
"""
from configs import fmnist_table
from configs import recipe_ablation

SMOKE = fmnist_table.SMOKE

METHODS = (("scratch", "scratch", ()),
           ("FM (one-to-one)", "fm", (("transfer.matching", "one_to_one"),)),
           ("L2T-w (one-to-one)", "l2t_w", (("transfer.matching", "one_to_one"),)),
           ("L2T-ww (all-to-all)", "l2t_ww", ()))


def get_config():
  config = fmnist_table.get_config()
  config.data.images_per_class = 25
  variants = []
  for recipe, overrides in (("l2t_tf 0.1", recipe_ablation.OLD), ("reference", ())):
    for name, method, extra in METHODS:
      variants.append((f"{name}, {recipe}",
                       (("method", method),) + extra + overrides))
  config.grid.variants = tuple(variants)
  config.grid.column = ""
  config.grid.column_values = ()
  config.grid.seeds = (0, 1, 2, 3, 4)
  return config
