"""The command line: trains a target network (optionally with transfer) from a
config, or exports or visualises a run.

  l2t-tf --config=quickstart --workdir=/tmp/quickstart   # a shipped config by name
  python main.py --config=configs/quickstart.py --workdir=/tmp/quickstart
  python main.py --config=configs/stl10.py --config.train.epochs=5 --workdir=DIR
  python main.py --mode=export --workdir=DIR          # another SavedModel version
  python main.py --mode=visualise --workdir=DIR       # plots of what was transferred

Rerunning a training command with the same --workdir resumes it.
"""
import importlib.util
import signal
import sys

from absl import app, flags
import ml_collections
from ml_collections import config_flags

from l2t_tf.errors import UserError, one_line_errors

_CONFIG = _WORKDIR = _MODE = _EXPORT_DIR = None


def define_flags() -> None:
  """Defines the command line's flags: when run, not when imported."""
  global _CONFIG, _WORKDIR, _MODE, _EXPORT_DIR
  _CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config "
                                            "file, or the name of a shipped one.",
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


def shipped_config(argv: list[str]) -> list[str]:
  """`--config=NAME[:ARG]` naming a config shipped in the installed `configs`
  package (no folder, no .py) -> that file's path; other arguments unchanged."""
  out = []
  for arg in argv:
    if arg.startswith("--config=") and "/" not in arg and ".py" not in arg:
      name, colon, rest = arg[len("--config="):].partition(":")
      try:
        spec = importlib.util.find_spec(f"configs.{name}") if name else None
      except (ImportError, ValueError):
        spec = None
      if spec is not None and spec.origin:
        arg = f"--config={spec.origin}{colon}{rest}"
    out.append(arg)
  return out


def _workdir() -> str:
  from l2t_tf import storage  # pylint: disable=g-import-not-at-top
  return storage.expand(_WORKDIR.value)  # --workdir=~/x is the home folder


def _config() -> ml_collections.ConfigDict:
  """The --config file's ConfigDict, or one error line saying what is wrong with it."""
  config = _CONFIG.value
  if flags.FLAGS["config"].present == 0 and config is None:
    raise UserError("--config is required to train", "pass "
                    "--config=configs/quickstart.py (or another file in configs/)")
  path = config_flags.get_config_filename(flags.FLAGS["config"])
  if config is None:
    raise UserError(f"get_config() in {path} returned None",
                    "end get_config() with `return config`")
  if not isinstance(config, ml_collections.ConfigDict):  # e.g. a missing file
    raise UserError(f"cannot load --config {path} (no such file or not a config)",
                    "pass a file in configs/, e.g. --config=configs/quickstart.py")
  return config


def _refuse(problem: str, fix: str):
  print(f"error: {problem}. Fix: {fix}", file=sys.stderr)
  sys.exit(2)


def _check_argv(argv) -> None:
  """A tuple field given twice: ml_collections appends the second value to the
  first (a scalar field given twice takes the last, as absl flags do)."""
  seen = {}
  for arg in argv[1:]:
    field, equals, value = arg.partition("=")
    if field.startswith("--config.") and equals:
      if field in seen and any(v.lstrip()[:1] in ("(", "[")
                               for v in (value, seen[field])):
        _refuse(f"{field} is given twice (a tuple field would take both values)",
                "give it once")
      seen[field] = value


def _parse_flags(argv):
  """absl's flag parsing, with one error line when the --config file cannot run."""
  argv = shipped_config(argv)
  _check_argv(argv)
  try:
    rest = flags.FLAGS(argv)
  except flags.Error as e:  # a bad flag value, an unknown flag or field
    lines = [l.strip() for l in str(e).splitlines() if l.strip()]
    where = lines[0].split(": Error whilst parsing")[0].rstrip(".")
    cause = f" ({lines[-1]})" if len(lines) > 1 else ""
    print(f"error: {where}{cause}. Fix: correct that flag (python main.py "
          "--helpfull lists the flags; configs/common.py the config fields)",
          file=sys.stderr)
    sys.exit(2)
  except (AttributeError, KeyError) as e:
    from l2t_tf import workdir  # pylint: disable=g-import-not-at-top
    for old, new in workdir.RENAMED.items():
      if any(arg.startswith(f"--config.{old}=") for arg in argv):
        print(f"error: config field {old} is now {new}. Fix: pass --config.{new}=... "
              "instead", file=sys.stderr)
        sys.exit(2)
    text = str(e.args[0]) if e.args else str(e)
    fields = {name for arg in argv if arg.startswith("--config.")
              for name in arg.split("=")[0][len("--config."):].split(".")}
    if not any(name in text for name in fields):  # raised inside get_config()
      _config_file_error(e)
    text = " ".join(text.replace("\\n", " ").replace("\\", "").replace("'", "").split())
    print(f"error: an override names no config field ({text}). Fix: use the "
          "fields of configs/common.py, e.g. --config.train.epochs=5", file=sys.stderr)
    sys.exit(2)
  except Exception as e:  # pylint: disable=broad-except
    _config_file_error(e)
  if len(rest) > 1:
    _refuse(f"main.py takes no positional argument ('{rest[1]}')",
            f"pass flags, e.g. --config={rest[1]}" if rest[1].endswith(".py")
            else "pass flags only (python main.py --helpfull lists them)")
  return rest


def _config_file_error(e: Exception):
  lines = [l.strip() for l in str(e).splitlines() if l.strip()] or [""]
  cause = lines[-1] if lines[-1].startswith(type(e).__name__) else (
      f"{type(e).__name__}: {lines[-1]}")
  from l2t_tf import workdir  # pylint: disable=g-import-not-at-top
  renamed = [f"{old} is now {new}" for old, new in workdir.RENAMED.items()
             if f"'{old.rsplit('.', 1)[1]}'" in cause]
  if renamed:
    cause += f"; {', '.join(renamed)}"
  print(f"error: cannot load the --config file ({cause}). Fix: "
        "it must be valid Python defining get_config() that returns an "
        "ml_collections.ConfigDict (see configs/quickstart.py)", file=sys.stderr)
  sys.exit(2)


def _train() -> None:
  from l2t_tf import grid, train  # pylint: disable=g-import-not-at-top
  config = _config()
  if config.grid.variants:
    grid.run_grid(config, _workdir())
    return
  if config.method:
    results = {config.method: train.run(config, _workdir())}
  else:
    results = grid.run_comparison(config, _workdir(), config.compare)
  results = {m: r for m, r in results.items() if r}  # the chief's only
  for method, result in results.items():
    if result.get("kept_weights") == "last":
      which = "the last epoch's weights, train.keep_weights=last"
    else:
      which = (f"best validation epoch {result['best_epoch']} of {result['epochs']}; "
               f"last epoch's weights {100 * result['final_test_accuracy']:.2f}%")
    print(f"{method:>8}: test accuracy {100 * result['test_accuracy']:.2f}% "
          f"({which}; {result['seconds']:.0f} s)")
    for warning in result.get("warnings", []):
      print(f"{method:>8}: warning: {warning}")
  if len(results) > 1:
    first, *others = results
    for method in others:
      gap = 100 * (results[method]["test_accuracy"] - results[first]["test_accuracy"])
      print(f"{method} - {first}: {gap:+.2f} points (one seed: see "
            "configs/*_table.py for seeds and paired differences)")
  if results:
    _where(_workdir(), results)


def _where(workdir: str, results: dict) -> None:
  """Where a user finds what the run wrote."""
  import os  # pylint: disable=g-import-not-at-top
  single = len(results) == 1
  folders = [workdir] if single else [os.path.join(workdir, m) for m in results]
  print(f"results: {', '.join(os.path.join(f, 'results.json') for f in folders)}")
  plots = [os.path.join(f, "plots") for f in dict.fromkeys([workdir, *folders])
           if os.path.isdir(os.path.join(f, "plots"))]
  if plots:
    print(f"figures: {', '.join(plots)}")
  exports = [r["export"] for r in results.values() if r.get("export")]
  if exports:
    print(f"export:  {', '.join(exports)}")
  print(f"tensorboard --logdir {workdir}")


def _export() -> None:
  from l2t_tf import export  # pylint: disable=g-import-not-at-top
  print(f"exported {export.export_workdir(_workdir(), _EXPORT_DIR.value)}")


def _visualise() -> None:
  from l2t_tf import visualise  # pylint: disable=g-import-not-at-top
  for path in visualise.run(_workdir()):
    print(f"wrote {path}")


class Terminated(KeyboardInterrupt):
  """SIGTERM (a batch scheduler, a preempted VM): ends the run as Ctrl-C does,
  releasing the workdir's lock on the way out."""


def _terminate(signum, frame):
  del signum, frame
  raise Terminated()


def main(argv):
  signal.signal(signal.SIGTERM, _terminate)
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  modes = {"train": _train, "export": _export, "visualise": _visualise}
  try:
    # Bad input and filesystem errors (a disk that fills during the final
    # export, say) are one line; the checkpoints are kept, so the same
    # command, rerun, finishes the run.
    one_line_errors(modes[_MODE.value],
                    then="; then rerun the same command (it resumes)")()
  except KeyboardInterrupt as e:
    print(f"{'terminated' if isinstance(e, Terminated) else 'interrupted'}: the "
          "last checkpoint is kept; rerun the same command to resume",
          file=sys.stderr)
    sys.exit(143 if isinstance(e, Terminated) else 130)


def run() -> None:
  """The `l2t-tf` command (and `python main.py`)."""
  from l2t_tf import console  # pylint: disable=g-import-not-at-top
  console.quiet_tensorflow()  # L2T_TF_VERBOSE=1 shows TensorFlow's start-up lines
  console.plain_logs()
  define_flags()
  app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
  run()
