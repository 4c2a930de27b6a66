"""Issue #24's verdict on the real task: does learning phi pay on Fashion-MNIST?

Fashion-MNIST 0-4 -> 5-9 (configs/fmnist_table.py: the shipped ResNet-32
source, VGG-9 target, the reference recipe) at 25 and 100 labels per class,
L2T-ww with the alignment meta-objective and 25 of the 50 held-out images per
class as its meta set (the model is selected on the other 25), 5 seeds,
paired (same seeds: same initial phi, data order and augmentation):
  - learned: phi trained by alignment on the meta set;
  - frozen: phi kept at its start;
  - frozen + meta set: frozen, the meta set's images added to training;
  - placebo: learned with the meta-gradient's sign flipped.

  python main.py --config=configs/fmnist_verdict.py --workdir=runs/fmnist_verdict
  python scripts/grid_report.py runs/fmnist_verdict --paired learned frozen

docs/results.md has the table.
"""
from configs import fmnist_table, known_answer_verdict

SMOKE = {**fmnist_table.SMOKE, "data.meta_per_class": 2}


def get_config():
  config = fmnist_table.get_config()
  config.method = "l2t_ww"
  config.transfer.meta_objective = "alignment"
  config.data.meta_per_class = 25
  config.grid.variants = known_answer_verdict.get_config().grid.variants
  config.grid.seeds = (0, 1, 2, 3, 4)
  return config
