"""Our L2TL table on real data, offline (issue #8): Fashion-MNIST -> digits, 3 seeds.

The rows: scratch (target alone, no source), fine-tuning (pre-train on the
source, then the target alone), uniform weights and random search (the
paper's Fig. 4 ablations: lambda fixed to 1 or drawn at random, alpha_s
still learned), and L2TL; all on configs/l2tl_quickstart.py's data and
schedule:

  python main.py --config=configs/l2tl_table.py --workdir=runs/l2tl_table

writes runs/l2tl_table/{results.csv,table.md}; each run's
source_class_weights.json holds its learned ranking.
"""
from configs import l2tl_quickstart


def get_config():
  config = l2tl_quickstart.get_config()
  config.train.verbose = 0
  config.grid.variants = (
      ("scratch", (("l2tl.policy", "finetune"), ("l2tl.pretrain_steps", 0))),
      ("fine-tuning", (("l2tl.policy", "finetune"),)),
      ("uniform weights", (("l2tl.policy", "uniform"),)),
      ("random search", (("l2tl.policy", "random"),)),
      ("L2TL", (("l2tl.policy", "learned"),)),
  )
  config.grid.seeds = (0, 1, 2)
  return config
