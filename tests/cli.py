"""Runs main.py as users do (a subprocess) on tiny settings."""
import os
import subprocess
import sys

from configs import quickstart

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICKSTART = os.path.join(ROOT, "configs/quickstart.py")
# The quickstart's smoke setting (configs/quickstart.py), as command-line flags.
TINY = [f"--config.{field}={value}".replace(" ", "")
        for field, value in quickstart.SMOKE.items()]


def command(*args, workdir, config=QUICKSTART) -> list[str]:
  config_args = [f"--config={config}", *TINY] if config else []
  return [sys.executable, os.path.join(ROOT, "main.py"), *config_args,
          f"--workdir={workdir}", *args]


def env(**extra) -> dict:
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def main(*args, workdir, config=QUICKSTART, timeout=600):
  return subprocess.run(command(*args, workdir=workdir, config=config),
                        capture_output=True, text=True, cwd=ROOT, env=env(),
                        timeout=timeout)


def snapshot(folder) -> dict:
  """{path: (size, mtime)} of every file, to prove a failed run changed nothing."""
  return {os.path.join(d, f): os.stat(os.path.join(d, f))[6:9:2]
          for d, _, files in os.walk(folder) for f in files}


def error_lines(result) -> list[str]:
  return [l for l in result.stderr.splitlines() if l.startswith("error:")]


def config_with(*args, config_module: str = "configs.quickstart"):
  """The config main.py would build from --config.a.b=value flags (and TINY)."""
  import ast  # pylint: disable=g-import-not-at-top
  import importlib  # pylint: disable=g-import-not-at-top
  config = importlib.import_module(config_module).get_config()
  for arg in [*TINY, *args]:
    dotted, _, text = arg[len("--config."):].partition("=")
    try:
      value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
      value = text
    *parents, name = dotted.split(".")
    node = config
    for parent in parents:
      node = node[parent]
    with config.unlocked():
      node[name] = type(node[name])(value) if isinstance(node[name], float) else value
  return config


def train_in_process(*args, workdir):
  """main.py's training mode in this process: the error is the UserError raised."""
  from l2t_tf import grid, train  # pylint: disable=g-import-not-at-top
  config = config_with(*args)
  if config.method:
    return train.run(config, str(workdir))
  return grid.run_comparison(config, str(workdir), config.compare)
