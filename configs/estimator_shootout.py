"""Issue #24: frozen-phi known-answer runs whose checkpoints feed the estimator shoot-out.

The quickstart's task (Fashion-MNIST 5-9, 50 labels per class) with phi frozen
at its neutral start, 25 of the 50 held-out images per class as the meta set,
and every epoch's checkpoint kept. `:where` matches the real source beside a
decoy; `:what` a source whose points carry as many noise channels as real ones;
`:harmful` the real source beside one that hurts at fixed weights (issue #24's
known answer that matters).

  python main.py --config=configs/estimator_shootout.py:where --workdir=runs/shootout_where
  python scripts/estimator_shootout.py runs/shootout_where --batches=30

docs/results.md has the table.
"""
from configs import (known_answer_answerability, known_answer_what,
                     known_answer_where, quickstart)

SMOKE = {**quickstart.SMOKE, "data.meta_per_class": 2}  # of its 4 held-out images
TASKS = {"where": known_answer_where, "what": known_answer_what,
         "harmful": known_answer_where}


def get_config(task: str = "where"):
  if task not in TASKS:
    raise ValueError(f"unknown task '{task}': use one of {sorted(TASKS)}")
  config = TASKS[task].get_config()
  if task == "harmful":
    config.transfer.source_paths = (config.transfer.source_paths[0],
                                    known_answer_answerability.HARMFUL)
  config.transfer.freeze_meta = True
  config.data.meta_per_class = 25
  config.checkpoint.keep = 1000
  config.export.enabled = False
  return config
