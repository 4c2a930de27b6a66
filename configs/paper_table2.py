"""Table 2's protocol: two sources at once (pass both .keras files), L2T-ww against each source alone.

Built on configs/stl10.py (STL-10 through TFDS, source from
configs/tinyimagenet_resnet32.py); see l2t_tf/grid.py for the layout:

  python main.py --config=configs/paper_table2.py --workdir=runs/paper_table2 \
      --config.transfer.source_paths="('runs/tiny/model.keras',)"
"""
from configs import stl10


def get_config():
  config = stl10.get_config()
  config.transfer.source_paths = ("runs/tiny/model.keras", "runs/source2/model.keras")
  config.grid.variants = (
      ("L2T-ww (first source)", (("method", "l2t_ww"),
                                 ("transfer.source_paths",
                                  ("runs/tiny/model.keras",)))),
      ("L2T-ww (second source)", (("method", "l2t_ww"),
                                  ("transfer.source_paths",
                                   ("runs/source2/model.keras",)))),
      ("L2T-ww (both)", (("method", "l2t_ww"),)),
  )
  config.grid.seeds = (0, 1, 2)
  return config
