"""Trains a target network (optionally with transfer) from a config, or exports one.

  python main.py --config=configs/quickstart.py --workdir=/tmp/quickstart
  python main.py --config=configs/stl10.py --config.train.epochs=5 --workdir=DIR
  python main.py --mode=export --workdir=DIR          # another SavedModel version
  python main.py --mode=visualise --workdir=DIR       # plots of what was transferred

Rerunning a training command with the same --workdir resumes it.
"""
import sys

from absl import app, flags
from ml_collections import config_flags

from l2t_tf.errors import UserError

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Where checkpoints, TensorBoard "
                               "logs, exports and results go.")
_MODE = flags.DEFINE_enum("mode", "train", ["train", "export", "visualise"],
                          "train (or resume) a run; export a finished run's "
                          "target as a new SavedModel version; or plot what a "
                          "transfer run learned into WORKDIR/plots.")
_EXPORT_DIR = flags.DEFINE_string("export_dir", "", "export mode: base folder "
                                  "(default: the run's export.base_dir or "
                                  "WORKDIR/export).")
flags.mark_flags_as_required(["workdir"])


def _train() -> None:
  from l2t_tf import train  # pylint: disable=g-import-not-at-top
  config = _CONFIG.value
  if config is None:
    raise UserError("--config is required to train", "pass "
                    "--config=configs/quickstart.py (or another file in configs/)")
  if config.grid.variants:
    from l2t_tf import grid  # pylint: disable=g-import-not-at-top
    grid.run_grid(config, _WORKDIR.value)
    return
  if config.method:
    results = {config.method: train.run(config, _WORKDIR.value)}
  else:
    results = train.run_comparison(config, _WORKDIR.value, config.compare)
  for method, result in results.items():
    if result:  # workers other than the chief return nothing
      print(f"{method:>8}: test accuracy {100 * result['test_accuracy']:.2f}% "
            f"(best validation epoch {result['best_epoch']} of "
            f"{result['epochs']}, {result['seconds']:.0f} s)")
      for warning in result.get("warnings", []):
        print(f"{method:>8}: warning: {warning}")


def _export() -> None:
  from l2t_tf import export  # pylint: disable=g-import-not-at-top
  print(f"exported {export.export_workdir(_WORKDIR.value, _EXPORT_DIR.value)}")


def _visualise() -> None:
  from l2t_tf import visualise  # pylint: disable=g-import-not-at-top
  for path in visualise.run(_WORKDIR.value):
    print(f"wrote {path}")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  modes = {"train": _train, "export": _export, "visualise": _visualise}
  try:
    modes[_MODE.value]()
  except UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main)
