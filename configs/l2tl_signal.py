"""Which reward and estimator carry per-class signal? Random search, 3 seeds (issue #26).

configs/l2tl_known_answer.py's task with lambda drawn at random from the
untrained policy every step (random search: the class policy never moves,
so every class is sampled alike) and each option measuring its signal: the
paper's REINFORCE on validation accuracy, REINFORCE on the negative
validation cross-entropy, antithetic pairs on it, and the alignment
estimator. scripts/l2tl_known_answer_report.py prints per run the pooled z
of the helpful (digit) and harmful (scrambled) classes and their gap:

  python main.py --config=configs/l2tl_signal.py --workdir=runs/l2tl_signal
  python scripts/l2tl_known_answer_report.py runs/l2tl_signal
"""
from configs import l2tl_known_answer

SMOKE = l2tl_known_answer.SMOKE


def get_config():
  config = l2tl_known_answer.get_config()
  config.train.verbose = 0
  config.l2tl.class_weights = "random"
  config.grid.variants = (
      ("REINFORCE, accuracy", (("l2tl.estimator", "reinforce"),
                               ("l2tl.reward", "accuracy"))),
      ("REINFORCE, -CE", (("l2tl.estimator", "reinforce"),
                          ("l2tl.reward", "neg_cross_entropy"))),
      ("antithetic, -CE", (("l2tl.estimator", "antithetic"),
                           ("l2tl.reward", "neg_cross_entropy"))),
      ("alignment", (("l2tl.estimator", "alignment"),)),
  )
  config.grid.seeds = (0, 1, 2)
  return config
