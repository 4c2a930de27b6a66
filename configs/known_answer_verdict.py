"""Issue #24's verdict: does phi learn the known answers, placebo-controlled?

The known-answer task (`:where`, real source beside a decoy; `:what`, a source
with noise channels; `:strength`, the real source alone at beta 1, where
matching with phi frozen costs a point against beta 0.5, so the answer, less
matching, matters; `:harmful`, the real source beside one that memorised the
target's images under random labels), 25 of the 50 held-out images per class as the meta set,
3 seeds, paired (same seeds: same initial phi, data order and augmentation):
  - learned: phi trained by the alignment meta-objective on the meta set;
  - frozen: phi kept at its neutral start;
  - frozen + meta set: frozen, the meta set's images added to training (the
    meta set's labels must not be a free advantage);
  - placebo: the learned run with its meta-gradient's sign flipped.
A design learns when its known answer passes (threshold and |t| >= 3) while
the placebo's does not, and learned beats frozen and placebo on accuracy.

  python main.py --config=configs/known_answer_verdict.py:where --workdir=runs/verdict_where
  python scripts/known_answer_report.py runs/verdict_where/*/seed=*
  python scripts/grid_report.py runs/verdict_where --paired learned frozen

docs/results.md has the table.
"""
from configs import (known_answer_answerability, known_answer_what,
                     known_answer_where, quickstart)

SMOKE = {**quickstart.SMOKE, "grid.seeds": (0,), "export.enabled": False,
         "data.meta_per_class": 2}
TASKS = {"where": known_answer_where, "what": known_answer_what,
         "strength": known_answer_where, "harmful": known_answer_where}


def get_config(task: str = "where"):
  if task not in TASKS:
    raise ValueError(f"unknown task '{task}': use one of {sorted(TASKS)}")
  config = TASKS[task].get_config()
  if task == "strength":  # the real source alone at beta 1, which hurts when frozen
    config.transfer.source_paths = config.transfer.source_paths[:1]
    config.transfer.beta = 1.0
  if task == "harmful":  # the real source beside one that hurts at fixed weights
    config.transfer.source_paths = (config.transfer.source_paths[0],
                                    known_answer_answerability.HARMFUL)
  config.data.meta_per_class = 25
  config.export.enabled = False
  config.grid.variants = (
      ("learned", ()),
      ("frozen", (("transfer.freeze_meta", True),)),
      ("placebo", (("transfer.placebo", True),)),
      ("frozen + meta set", (("transfer.freeze_meta", True),
                             ("data.meta_into_train", True))),
  )
  config.grid.column = ""
  config.grid.column_values = ()
  config.grid.seeds = (0, 1, 2)
  return config
