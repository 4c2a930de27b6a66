"""L2TL's known answer whose answer matters: source classes that help and that hurt.

The source (loader 'digits_scrambled') holds 20 classes over the same ~680
digit images of the digits' 'train_source' pool, which the target never
uses: 'digit:0'-'digit:9' under their true labels (they help: the encoder
learns digits) and 'scrambled:0'-'scrambled:9' under labels drawn at random
(they hurt: the encoder memorises noise about the images the target must
tell apart). The target is l2tl_quickstart.py's: 10 labelled digits per
class. A policy that learns ranks the digit classes above the scrambled ones
(scripts/l2tl_known_answer_report.py):

  python main.py --config=configs/l2tl_known_answer.py --workdir=runs/l2tl_ka
  python scripts/l2tl_known_answer_report.py runs/l2tl_ka

That the answer matters at fixed weights (helpful only > uniform > harmful
only) is measured by configs/l2tl_answerability.py; the verdict against
random search, uniform, helpful-only and scratch by configs/l2tl_table.py.
The paper's estimator (REINFORCE on validation accuracy) is one flag away:
--config.l2tl.estimator=reinforce.

Measured (3 seeds, configs/l2tl_table.py): the alignment policy meets the
known answer in 3 of 3 seeds within 600 steps, the paper's in none.
"""
from configs import l2tl_quickstart

SMOKE = {**l2tl_quickstart.SMOKE, "l2tl.source_data.images_per_class": 0,
         "l2tl.pretrain_steps": 0}

# Source classes that help; the report counts them among the top 10.
HELPFUL = "digit:"


def get_config():
  config = l2tl_quickstart.get_config()
  config.l2tl.source_data.loader = "digits_scrambled"
  config.l2tl.source_data.test_split = "train"  # it has no other; never tested
  # What the policy chooses decides the run: no source-only pre-training on
  # all classes alike (it would be every row's), and alpha_s up to 1, so the
  # source can count as much as the target (the paper's beta is 0.5). At 0.5
  # with pre-training, helpful > uniform > harmful by 1.3 and 1.4 points only.
  config.l2tl.pretrain_steps = 0
  config.l2tl.alpha_max = 1.0
  # Measured best (docs/results.md, issue #26): the only option whose policy
  # meets the known answer. It uses no reward; the reward left at the
  # paper's accuracy makes --config.l2tl.estimator=reinforce the paper's L2TL.
  config.l2tl.estimator = "alignment"
  return config
