"""What a method reports besides its accuracy: callbacks during `fit`, files
and figures at the end. Trainers only train; `methods.REGISTRY` pairs each
method's builder with its reports."""
import dataclasses
from typing import Any


@dataclasses.dataclass
class RunContext:
  """What a method's reports may use of the run `train.run` is making."""
  workdir: str
  log_dir: str
  datasets: Any          # data.pipeline.Datasets
  fresh: bool            # no checkpoint yet: training starts at step 0
  guard: Any = None      # callbacks.StopOnNonFinite
  source_classes: tuple = ()  # l2tl: the source dataset's class names


class Reports:
  """A method's reports; the defaults (nothing) are what scratch, fine-tuning
  and the hand-crafted baselines get."""

  has_figures = False  # whether --mode=visualise can redraw them (`figures`)
  # For --mode=visualise on a run of a method without figures: the fix to name.
  no_figures = "pass the workdir of an fm, l2t_w or l2t_ww run"

  def callbacks(self, model, context: RunContext) -> list:  # pylint: disable=unused-argument
    """Callbacks `fit` runs for this method (chief only), before checkpointing."""
    return []

  def write_outputs(self, model, context: RunContext) -> dict:  # pylint: disable=unused-argument
    """Writes this method's files at the end; returns entries for results.json."""
    return {}

  def figures(self, model, datasets, workdir: str) -> list[str]:  # pylint: disable=unused-argument
    """Redraws the figures from a rebuilt model (--mode=visualise) and
    returns their paths (with `has_figures`)."""
    return []
