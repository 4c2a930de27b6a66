"""Does L2TL's known answer matter? Fixed class weights, 3 seeds (issue #26).

configs/l2tl_known_answer.py's task with lambda fixed, no policy learning
lambda (alpha_s is still learned, by the paper's REINFORCE, in every row
but scratch): the digit classes only (helpful), all 20 classes at lambda 1
(uniform), the scrambled classes only (harmful), and scratch (no source).
The answer matters when helpful > uniform > harmful by several points:

  python main.py --config=configs/l2tl_answerability.py --workdir=runs/l2tl_answerability
  python scripts/grid_report.py runs/l2tl_answerability --paired "helpful only" "harmful only"

writes WORKDIR/{results.csv,table.md}; docs/results.md has the table.
"""
from configs import l2tl_known_answer

SMOKE = l2tl_known_answer.SMOKE

_PAPER_ALPHA = (("l2tl.estimator", "reinforce"), ("l2tl.reward", "accuracy"))


def get_config():
  config = l2tl_known_answer.get_config()
  config.train.verbose = 0
  config.grid.variants = (
      ("scratch", (("l2tl.class_weights", "finetune"), ("l2tl.pretrain_steps", 0))),
      ("helpful only", (("l2tl.class_weights", "fixed"),
                        ("l2tl.fixed_classes", (l2tl_known_answer.HELPFUL,)),
                        *_PAPER_ALPHA)),
      ("uniform", (("l2tl.class_weights", "uniform"), *_PAPER_ALPHA)),
      ("harmful only", (("l2tl.class_weights", "fixed"), ("l2tl.fixed_classes", ("scrambled:",)),
                        *_PAPER_ALPHA)),
  )
  config.grid.seeds = (0, 1, 2)
  return config
