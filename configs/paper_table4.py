"""Table 4's protocol: the proposed 3-stage bilevel scheme against the original 2-stage one.

Built on configs/stl10.py (STL-10 through TFDS, source from
configs/tinyimagenet_resnet32.py); see l2t_tf/grid.py for the layout:

  python main.py --config=configs/paper_table4.py --workdir=runs/paper_table4 \
      --config.transfer.source_paths="('runs/tiny/model.keras',)"
"""
from configs import stl10


def get_config():
  config = stl10.get_config()
  config.grid.variants = (
      ("L2T-ww, 3-stage (ours)", (("method", "l2t_ww"),
                                  ("transfer.scheme", "three_stage"))),
      ("L2T-ww, 2-stage (original)", (("method", "l2t_ww"),
                                      ("transfer.scheme", "two_stage"))),
  )
  config.grid.seeds = (0, 1, 2)
  return config
