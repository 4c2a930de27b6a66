"""Figure 5: TinyImageNet -> CIFAR-10 with 50 to 1,000 training images per class.

The methods the figure shows (scratch, LwF, AT, LwF+AT, L2T-ww), 3 seeds per
point, with the authors' TinyImageNet ResNet-32 (shipped) -> VGG-9. The
validation images (50 per class; the official code has no CIFAR-10 split
file) come from the rest of CIFAR-10's training set:

  python main.py --config=configs/paper_figure5.py --workdir=runs/figure5

The paper reports, at 50 per class: L2T-ww 64.91, LwF+AT 53.76, AT 51.76,
LwF 43.32, scratch 39.99 %.
"""
from configs import paper_table1

SMOKE = {**paper_table1.SMOKE, "grid.column_values": (8,)}

SHOWN = ("Scratch", "LwF", "AT (one-to-one)", "LwF+AT (one-to-one)",
         "L2T-ww (all-to-all)")


def get_config():
  config = paper_table1.get_config("stl10")
  config.data.name = "cifar10"
  config.data.val_per_class = 50
  config.grid.variants = tuple(v for v in config.grid.variants if v[0] in SHOWN)
  config.grid.column = "data.images_per_class"
  config.grid.column_values = (50, 100, 250, 500, 1000)
  return config
