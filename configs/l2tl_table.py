"""Our L2TL tables on real data, offline (issues #14, #26): 3 seeds.

Tasks (`--config=configs/l2tl_table.py:<task>`):
  'known_answer' (the default; issue #26): digits + scrambled digits ->
      digits (configs/l2tl_known_answer.py), 600 joint steps. The rows:
      configs/l2tl_answerability.py's (scratch; lambda fixed to the helpful
      classes, to all, to the harmful ones), random search (lambda drawn from the policy frozen at its start);
      L2TL with the alignment estimator (the known answer's default), its
      placebo (the signal's sign flipped) and L2TL as in the paper
      (REINFORCE on validation accuracy).
  'garments' (issue #14): garments + held-out digits -> digits, 2,000 joint
      steps: scratch, fine-tuning, uniform, random search, L2TL, and L2TL
      with one mixed BatchNorm pass (the control for shared statistics).
  'original': Fashion-MNIST -> digits (configs/l2tl_quickstart.py), the
      garments rows without scratch and the BatchNorm control.

  python main.py --config=configs/l2tl_table.py --workdir=runs/l2tl_table
  python scripts/grid_report.py runs/l2tl_table --paired "L2TL (alignment)" "random search"
  python scripts/l2tl_known_answer_report.py runs/l2tl_table

writes WORKDIR/{results.csv,table.md}; each run's policy_trace.json and
plots/policy_over_training.png hold what its policy learned and from what.
Run in the same workdir as configs/l2tl_answerability.py, it reuses that
grid's finished rows. Measured: docs/results.md.
"""
import ml_collections

from configs import l2tl_answerability, l2tl_quickstart

SMOKE = l2tl_quickstart.SMOKE

_PAPER = (("l2tl.estimator", "reinforce"), ("l2tl.reward", "accuracy"))


def _garments() -> ml_collections.ConfigDict:
  """Issue #14's known answer: 10 garment and 10 held-out digit classes."""
  config = l2tl_quickstart.get_config()
  config.l2tl.source_data.loader = "garments_digits"
  config.l2tl.source_data.test_split = "train"  # it has no other; never tested
  return config


def get_config(task: str = "known_answer"):
  tasks = ("known_answer", "garments", "original")
  if task not in tasks:
    raise ValueError(f"unknown task '{task}': use one of {', '.join(tasks)}, e.g. "
                     "--config=configs/l2tl_table.py:original")
  if task == "known_answer":
    config = l2tl_answerability.get_config()
    config.grid.variants = config.grid.variants + (
        ("random search", (("l2tl.class_weights", "random"),)),
        ("L2TL (alignment)", (("l2tl.class_weights", "learned"),)),
        ("L2TL (alignment), placebo", (("l2tl.class_weights", "learned"),
                                       ("l2tl.placebo", True))),
        ("L2TL (paper)", (("l2tl.class_weights", "learned"), *_PAPER)),
    )
    return config
  config = _garments() if task == "garments" else l2tl_quickstart.get_config()
  config.train.verbose = 0
  config.train.epochs = 44  # 200 pre-training steps + 2,000 joint steps
  config.grid.variants = (
      ("scratch", (("l2tl.class_weights", "finetune"), ("l2tl.pretrain_steps", 0))),
      ("fine-tuning", (("l2tl.class_weights", "finetune"),)),
      ("uniform weights", (("l2tl.class_weights", "uniform"),)),
      ("random search", (("l2tl.class_weights", "random"),)),
      ("L2TL", (("l2tl.class_weights", "learned"),)),
      ("L2TL, shared BatchNorm", (("l2tl.class_weights", "learned"),
                                  ("l2tl.batch_norm", "shared"))),
  )
  if task == "original":
    # Scratch never sees the source, and both tasks share the target data and
    # seeds: the garments table's scratch row is this table's too. The
    # shared-BatchNorm control is measured once, on the garments task.
    config.grid.variants = config.grid.variants[1:-1]
  config.grid.seeds = (0, 1, 2)
  return config
