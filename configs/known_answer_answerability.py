"""Issue #24: are the known answers answers? Phi frozen, what matters at fixed weights.

The quickstart's task (Fashion-MNIST 5-9, 50 labels per class, VGG-9 target)
with L2T-ww's phi frozen at its neutral start (every lambda 1, w uniform), 3
seeds. A known answer is one only if the thing a learner should avoid hurts:
  - the real source alone at beta 0.25 / 0.5 / 1: does matching strength matter;
  - the real source beside a decoy (random weights) at beta 0.5: does the decoy hurt;
  - the noisy source (every point doubled by noise channels) at beta 0.5: its
    real channels get half of w's mass, the strength of the real source alone
    at beta 0.25; does the noise hurt against that;
  - the oracle source beside the decoy: a ResNet-32 trained on the target
    classes from Fashion-MNIST images disjoint from every target split
    (configs/fashion_mnist_source.py:oracle), the must-pass tier.
Scratch is the floor.

  python main.py --config=configs/known_answer_answerability.py --workdir=runs/answerability
  python scripts/grid_report.py runs/answerability

`:harmful` asks the same of a harmful source (configs/fashion_mnist_source.py
:scrambled, which memorised the target's own training images under random
labels): the real source alone, beside the harmful one, and the harmful one
alone, at beta 0.5.

docs/results.md has the table.
"""
from configs import known_answer_where, quickstart
import l2t_tf

SMOKE = {**quickstart.SMOKE, "grid.seeds": (0,), "export.enabled": False}

REAL = l2t_tf.asset("source_resnet32_fmnist_0-4.keras")
ORACLE = l2t_tf.asset("oracle_resnet32_fmnist_5-9.keras")
HARMFUL = "harmful:" + l2t_tf.asset("scrambled_resnet32_fmnist_5-9.keras")


def _l2t_ww(beta, *sources):
  return (("method", "l2t_ww"), ("transfer.beta", beta),
          ("transfer.source_paths", sources))


def get_config(task: str = "decoy"):
  """task: 'decoy' (the rows above) or 'harmful'."""
  if task not in ("decoy", "harmful"):
    raise ValueError(f"unknown task '{task}': use decoy or harmful")
  config = known_answer_where.get_config()
  config.transfer.freeze_meta = True
  config.transfer.meta_objective = "lookahead"  # unused: phi is frozen
  config.data.meta_per_class = 0                # the quickstart's split
  config.export.enabled = False
  config.grid.variants = (
      ("scratch", (("method", "scratch"),)),
      ("real, beta 0.25", _l2t_ww(0.25, REAL)),
      ("real, beta 0.5", _l2t_ww(0.5, REAL)),
      ("real, beta 1", _l2t_ww(1.0, REAL)),
      ("real + decoy, beta 0.5", _l2t_ww(0.5, REAL, f"decoy:{REAL}")),
      ("noisy, beta 0.5", _l2t_ww(0.5, f"noisy:{REAL}")),
      ("oracle, beta 0.5", _l2t_ww(0.5, ORACLE)),
      ("oracle + decoy, beta 0.5", _l2t_ww(0.5, ORACLE, f"decoy:{ORACLE}")),
  )
  if task == "harmful":
    config.grid.variants = (
        ("real, beta 0.5", _l2t_ww(0.5, REAL)),
        ("real + harmful, beta 0.5", _l2t_ww(0.5, REAL, HARMFUL)),
        ("harmful, beta 0.5", _l2t_ww(0.5, HARMFUL)),
    )
  config.grid.column = ""
  config.grid.column_values = ()
  config.grid.seeds = (0, 1, 2)
  return config
