"""Trains a target network (optionally with transfer) from a config.

  python main.py --config=configs/quickstart.py --workdir=/tmp/quickstart
  python main.py --config=configs/stl10.py --config.train.epochs=5 --workdir=DIR
"""
import sys

from absl import app, flags
from ml_collections import config_flags

from l2t_tf import train
from l2t_tf.errors import UserError

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file.",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Where checkpoints, TensorBoard "
                               "logs, exports and results go.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  config = _CONFIG.value
  try:
    if config.method:
      results = {config.method: train.run(config, _WORKDIR.value)}
    else:
      results = train.run_comparison(config, _WORKDIR.value, config.compare)
  except UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  for method, result in results.items():
    print(f"{method:>8}: test accuracy {100 * result['test_accuracy']:.2f}% "
          f"(best validation epoch {result['best_epoch']} of {result['epochs']}, "
          f"{result['seconds']:.0f} s)")


if __name__ == "__main__":
  app.run(main)
