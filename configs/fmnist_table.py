"""Our results table on real data, offline (issue #4): Fashion-MNIST 0-4 -> 5-9.

Source: the ResNet-32 (width 0.5) trained by configs/fashion_mnist_source.py on
all training images of classes 0-4 (shipped in l2t_tf/assets). Target: VGG-9
(width 0.25) on classes 5-9 with 25 or 100 labelled images per class; 50 per
class held out for validation; test on the official 5,000 test images of 5-9.
Reads Debian's dataset-fashion-mnist. Every method x {25, 100} x 3 seeds:

  python main.py --config=configs/fmnist_table.py --workdir=runs/fmnist_table

writes runs/fmnist_table/{results.csv,table.md}; rerunning skips finished runs.
One row: --config.grid.variants="(('L2T-ww (all-to-all)', (('method', 'l2t_ww'),)),)"
"""
from configs import common
import l2t_tf

ONE_TO_ONE = ("transfer.matching", "one_to_one")


def get_config():
  config = common.get_base_config()
  config.data.source = "idx"
  config.data.path = "/usr/share/datasets/fashion-mnist"
  config.data.classes = (5, 6, 7, 8, 9)
  config.data.val_per_class = 50
  config.model.name = "vgg9"
  config.model.width = 0.25
  config.train.batch_size = 64
  config.train.epochs = 30
  config.train.verbose = 0
  config.transfer.source_paths = (
      str(l2t_tf.ASSETS / "source_resnet32_fmnist_0-4.keras"),)
  config.transfer.meta_learning_rate = 1e-3  # as the quickstart: short runs
  config.export.enabled = False
  config.grid.variants = (
      ("scratch", (("method", "scratch"),)),
      ("LwF", (("method", "lwf"),)),
      ("AT (one-to-one)", (("method", "at"),)),
      ("LwF+AT (one-to-one)", (("method", "lwf_at"),)),
      ("FM (one-to-one)", (("method", "fm"), ONE_TO_ONE)),
      ("L2T-w (one-to-one)", (("method", "l2t_w"), ONE_TO_ONE)),
      ("L2T-ww (all-to-all)", (("method", "l2t_ww"),)),
  )
  config.grid.column = "data.images_per_class"
  config.grid.column_values = (25, 100)
  config.grid.seeds = (0, 1, 2)
  return config
