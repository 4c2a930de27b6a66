"""Figure 5's protocol on STL-10: images per class (the paper's 500 and 1000 need a
larger target set; STL-10 has 500 labelled images per class, 50 held out).

Built on configs/stl10.py (STL-10 through TFDS, source from
configs/tinyimagenet_resnet32.py); see l2t_tf/grid.py for the layout:

  python main.py --config=configs/paper_figure5.py --workdir=runs/paper_figure5 \
      --config.transfer.source_paths="('runs/tiny/model.keras',)"
"""
from configs import stl10


def get_config():
  config = stl10.get_config()
  config.grid.variants = (
      ("Scratch", (("method", "scratch"),)),
      ("LwF", (("method", "lwf"),)),
      ("AT", (("method", "at"),)),
      ("LwF+AT", (("method", "lwf_at"),)),
      ("L2T-ww", (("method", "l2t_ww"),)),
  )
  config.grid.column = "data.images_per_class"
  config.grid.column_values = (50, 100, 250, 450)
  config.grid.seeds = (0, 1, 2)
  return config
