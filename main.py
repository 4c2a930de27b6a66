"""Trains a target network (optionally with transfer) from a config, or exports one.

  python main.py --config=configs/quickstart.py --workdir=/tmp/quickstart
  python main.py --config=configs/stl10.py --config.train.epochs=5 --workdir=DIR
  python main.py --mode=export --workdir=DIR          # another SavedModel version
  python main.py --mode=visualise --workdir=DIR       # plots of what was transferred

Rerunning a training command with the same --workdir resumes it. The same
command is installed as `l2t-tf` (l2t_tf/main.py).
"""
from l2t_tf import main

if __name__ == "__main__":
  main.run()
