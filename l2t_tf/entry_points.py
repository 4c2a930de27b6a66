"""The installed command-line tools besides `l2t-tf` (l2t_tf.main): each
defines its flags only when run, after TensorFlow's start-up lines are muted."""
import importlib

from absl import app

from l2t_tf import console


def _run(module: str) -> None:
  console.quiet_tensorflow()  # before the tool's import loads TensorFlow
  tool = importlib.import_module(module)
  tool.define_flags()
  app.run(tool.main)


def convert() -> None:
  """`l2t-tf-convert`: python -m l2t_tf.convert."""
  _run("l2t_tf.convert")


def bench() -> None:
  """`l2t-tf-bench`: python -m l2t_tf.bench."""
  _run("l2t_tf.bench")


def serving_client() -> None:
  """`l2t-tf-serving-client`: python -m l2t_tf.serving_client."""
  _run("l2t_tf.serving_client")
