"""Issue #18: which difference from the authors' code decides recovery at lr 0.1?

The paper's settings (SGD lr 0.1, momentum 0.9, cosine, 30 epochs, batch 64,
no warm-up) on our hardest real task: Fashion-MNIST 0-4 -> 5-9 with 25 labels
per class (configs/fmnist_table.py), scratch and FM (one-to-one). Each variant
changes one thing against l2t_tf 0.1 (Keras initialisers, Keras momentum, cosine
per step, biased running variance); the last is today's default.

  python main.py --config=configs/recipe_ablation.py --workdir=runs/recipe_ablation

writes runs/recipe_ablation/{results.csv,table.md}; 60 runs of 1.5-2.5 minutes
on 2 shared CPU cores. Measured (50 of the runs): docs/results.md, with
`python scripts/grid_report.py runs/recipe_ablation`.
"""
from configs import fmnist_table

SMOKE = fmnist_table.SMOKE

OLD = (("model.init", "keras"), ("train.momentum_rule", "keras"))


def get_config():
  config = fmnist_table.get_config()
  config.data.images_per_class = 25
  config.transfer.matching = "one_to_one"  # FM (one-to-one); scratch ignores it
  config.grid.variants = (
      ("l2t_tf 0.1", OLD),
      ("reference init + PyTorch momentum (default)", ()),
      ("+ reference init", (("train.momentum_rule", "keras"),)),
      ("+ PyTorch momentum", (("model.init", "keras"),)),
      ("+ cosine per epoch", OLD + (("train.schedule_unit", "epoch"),)),
      ("+ unbiased running variance",
       OLD + (("model.unbiased_moving_variance", True),)),
  )
  config.grid.column = "method"
  config.grid.column_values = ("scratch", "fm")
  config.grid.seeds = (0, 1, 2, 3, 4)
  return config
