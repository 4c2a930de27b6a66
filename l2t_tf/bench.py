"""Benchmark of the real trainers: step times, peak memory and the input pipeline.

  python -m l2t_tf.bench                          # the issue #7 table, ~10 min on 2 cores
  python -m l2t_tf.bench --jit=off --steps=10 --methods=scratch,l2t_ww
  python -m l2t_tf.bench --jit=off --methods=scratch,l2t_ww,l2t_ww:alignment

`l2t_ww:OBJECTIVE` times L2T-ww with transfer.meta_objective=OBJECTIVE
(lookahead, the paper's; heldout_lookahead; alignment) and a meta set of
one batch.

ResNet-32 source, VGG-9 target, 32x32 inputs, batch 64, all-to-all pairs (15),
T = 2 by default; `--setup=224` times the paper's ImageNet setup (ResNet-34
source, ResNet-18 target, 224x224, 16 pairs). Each (method, XLA, determinism) runs in its own process, so
its peak RSS is its own; the process builds the model `main.py` would build
(methods.build_model), compiles `train_step` as `fit` does, warms up for 2
steps and times `--steps` more. The input pipeline row times the quickstart's
augmented training `tf.data` stream alone. One table, ratios from the same run
(these machines are noisy: compare ratios, not absolute times). Weights are
random: step time does not depend on them.
"""
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags
import numpy as np

from l2t_tf import console
from l2t_tf.errors import UserError, one_line_errors

# The paper's two setups: (source, target, image size).
SETUPS = {"32": ("resnet32", "vgg9", 32), "224": ("resnet34", "resnet18", 224)}
_SETUP = None
_BATCH = None
_WIDTH = None
_SOURCE_WIDTH = None
_STEPS = None
_JIT = None
_METHODS = None
_INNER = None
_MATCHING = None
_FIRST_ORDER = None
_DETERMINISM = None
_PIPELINE = None
_THREADS = None
_CHILD = None


def define_flags() -> None:
  """Defines the command line's flags: when run, not when imported."""
  global _SETUP, _BATCH, _WIDTH, _SOURCE_WIDTH, _STEPS, _JIT, _METHODS, _INNER, _MATCHING, _FIRST_ORDER, _DETERMINISM, _PIPELINE, _THREADS, _CHILD
  _SETUP = flags.DEFINE_enum("setup", "32", list(SETUPS), "32: ResNet-32 -> VGG-9 "
                             "at 32x32; 224: ResNet-34 -> ResNet-18 at 224x224.")
  _BATCH = flags.DEFINE_integer("batch", 64, "Batch size.")
  _WIDTH = flags.DEFINE_float("width", 1.0, "Width multiplier of the target.")
  _SOURCE_WIDTH = flags.DEFINE_float("source_width", 1.0,
                                     "Width multiplier of the source.")
  _STEPS = flags.DEFINE_integer("steps", 10, "Timed steps (after 2 warm-up steps).")
  _JIT = flags.DEFINE_list("jit", ["off", "on"], "XLA settings to time.")
  _METHODS = flags.DEFINE_list("methods", ["scratch", "fm", "l2t_ww"], "Methods.")
  _INNER = flags.DEFINE_integer("inner_steps", 2, "T.")
  _MATCHING = flags.DEFINE_enum("matching", "all_to_all",
                                ["single", "one_to_one", "all_to_all"], "Pairs.")
  _FIRST_ORDER = flags.DEFINE_bool("first_order", False, "First-order look-ahead.")
  _DETERMINISM = flags.DEFINE_list(
      "determinism", ["off"], "Op determinism settings to time (XLA rows are "
      "skipped with it on: XLA has no deterministic MaxPool gradient).")
  _PIPELINE = flags.DEFINE_bool("pipeline", True, "Also time the input pipeline.")
  _THREADS = flags.DEFINE_integer("threads", 0, "TF intra/inter-op threads (0: TF's default).")
  _CHILD = flags.DEFINE_string("child", "", "Internal: run one measurement "
                               "('method,jit,determinism' or 'pipeline') and print JSON.")


def _peak_rss_mb() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _setup_tf():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if _THREADS.value:
    tf.config.threading.set_intra_op_parallelism_threads(_THREADS.value)
    tf.config.threading.set_inter_op_parallelism_threads(_THREADS.value)
  return tf


def time_method(method: str, jit: bool, deterministic: bool) -> dict:
  """Seconds per train_step of `method`, and this process's peak RSS."""
  tf = _setup_tf()
  from configs import common  # pylint: disable=g-import-not-at-top
  from l2t_tf import methods  # pylint: disable=g-import-not-at-top
  from l2t_tf.models import backbones  # pylint: disable=g-import-not-at-top
  if deterministic:
    tf.config.experimental.enable_op_determinism()
  source_name, target_name, size = SETUPS[_SETUP.value]
  config = common.get_base_config()
  config.method, _, objective = method.partition(":")
  config.transfer.meta_objective = objective or "lookahead"
  config.data.meta_per_class = 1 if objective else 0  # the batch below is the set
  config.model.name = target_name
  config.model.width = _WIDTH.value
  config.transfer.inner_steps = _INNER.value
  config.transfer.matching = _MATCHING.value
  config.transfer.first_order = _FIRST_ORDER.value
  rng = np.random.RandomState(0)
  images = tf.constant(rng.normal(size=(_BATCH.value, size, size, 3)), tf.float32)
  labels = tf.constant(rng.randint(0, 10, _BATCH.value))
  with tempfile.TemporaryDirectory() as folder:
    config.transfer.source_paths = (f"{folder}/source.keras",)
    # KD matches the source's class probabilities: it needs the target's classes.
    backbones.BACKBONES[source_name](num_classes=10 if config.method == "kd" else 200,
                                     input_shape=(size, size, 3),
                                     width=_SOURCE_WIDTH.value).save(
                                         config.transfer.source_paths[0])
    model, _ = methods.build_model(
        config, 10, (size, size, 3), steps_per_epoch=100, jit_compile=jit,
        meta_set=(images.numpy(), labels.numpy()) if objective else None)
  step = tf.function(model.train_step, jit_compile=jit)
  times = []
  for i in range(2 + _STEPS.value):
    start = time.perf_counter()
    float(step((images, labels))["loss"])  # waits for the step to finish
    if i >= 2:
      times.append(time.perf_counter() - start)
  return {"times": times, "rss_mb": _peak_rss_mb()}


def time_pipeline() -> dict:
  """Images per second of the quickstart's augmented training stream alone."""
  _setup_tf()
  from configs import quickstart  # pylint: disable=g-import-not-at-top
  from l2t_tf.data import pipeline  # pylint: disable=g-import-not-at-top
  datasets = pipeline.build_datasets(quickstart.get_config().data, _BATCH.value, 0)
  stream = datasets.train_from(0, 0, 40)
  iterator = iter(stream)
  next(iterator)  # warm-up (fills the cache)
  start, count = time.perf_counter(), 0
  for images, _ in iterator:
    count += int(images.shape[0])
  return {"images_per_s": count / (time.perf_counter() - start),
          "rss_mb": _peak_rss_mb()}


def _run_child(spec: str, argv: list[str]) -> dict:
  result = subprocess.run([sys.executable, "-m", "l2t_tf.bench", f"--child={spec}",
                           *argv], capture_output=True, text=True)
  for line in reversed(result.stdout.splitlines()):
    if line.startswith("{"):
      return json.loads(line)
  raise RuntimeError(f"benchmark child {spec} failed:\n{result.stderr[-3000:]}")


def _check_flags() -> None:
  """Bad flag values: one error line before the first child starts."""
  from l2t_tf import methods  # pylint: disable=g-import-not-at-top
  from l2t_tf.trainers import l2t_ww  # pylint: disable=g-import-not-at-top
  for entry in _METHODS.value:
    method, colon, objective = entry.partition(":")
    if method not in methods.REGISTRY:
      raise UserError(f"--methods names unknown method '{method}'",
                      f"use methods among {sorted(methods.REGISTRY)}")
    if method == "l2tl":
      raise UserError("--methods=l2tl is not timed by the bench (it trains on a "
                      "source dataset)", "time it by a short run: python main.py "
                      "--config=configs/l2tl_quickstart.py")
    if colon and (method != "l2t_ww" or objective not in l2t_ww.META_OBJECTIVES):
      raise UserError(f"--methods entry '{entry}' is not l2t_ww:OBJECTIVE",
                      f"use l2t_ww:OBJECTIVE with OBJECTIVE among "
                      f"{list(l2t_ww.META_OBJECTIVES)}")
  for name, values in (("jit", _JIT.value), ("determinism", _DETERMINISM.value)):
    if not values or set(values) - {"on", "off"}:
      raise UserError(f"--{name}={','.join(values)} is not on or off",
                      "use on, off or on,off")
  for flag, least in ((_STEPS, 1), (_BATCH, 1), (_INNER, 1), (_THREADS, 0)):
    if flag.value < least:
      raise UserError(f"--{flag.name} must be >= {least}, got {flag.value}",
                      f"pass e.g. --{flag.name}={flag.default}")
  for flag in (_WIDTH, _SOURCE_WIDTH):
    if flag.value <= 0:
      raise UserError(f"--{flag.name} must be positive, got {flag.value}",
                      f"pass e.g. --{flag.name}=1.0")


def main(argv):
  if _CHILD.value:
    if _CHILD.value == "pipeline":
      print(json.dumps(time_pipeline()))
    else:
      method, jit, deterministic = _CHILD.value.split(",")
      print(json.dumps(time_method(method, jit == "on", deterministic == "on")))
    return
  passed = [a for a in sys.argv[1:] if not a.startswith("--child")]
  del argv
  one_line_errors(_check_flags)()
  rows = []
  for deterministic in _DETERMINISM.value:
    for jit in _JIT.value:
      if jit == "on" and deterministic == "on":
        continue
      for method in _METHODS.value:
        print(f"timing {method} (XLA {jit}, determinism {deterministic}) ...",
              file=sys.stderr, flush=True)
        result = _run_child(f"{method},{jit},{deterministic}", passed)
        times = result["times"]
        rows.append({"method": method, "jit": jit, "det": deterministic,
                     "median": statistics.median(times), "min": min(times),
                     "max": max(times), "rss": result["rss_mb"]})
  _print_table(rows)
  if _PIPELINE.value:
    pipe = _run_child("pipeline", passed)
    print(f"\ninput pipeline (quickstart data, augmentation on): "
          f"{pipe['images_per_s']:.0f} images/s")
    for row in rows:
      consumed = _BATCH.value / row["median"]
      print(f"  x {pipe['images_per_s'] / consumed:7.1f} what {row['method']} "
            f"(XLA {row['jit']}, determinism {row['det']}) consumes "
            f"({consumed:.0f} images/s)")


def _print_table(rows: list[dict]) -> None:
  source, target, size = SETUPS[_SETUP.value]
  print(f"\nbatch {_BATCH.value} at {size}x{size}, target {target} width "
        f"{_WIDTH.value}, source {source} width {_SOURCE_WIDTH.value}, {_MATCHING.value}, "
        f"T={_INNER.value}, first_order={_FIRST_ORDER.value}, "
        f"{_STEPS.value} timed steps")
  print(f"{'method':>24} {'xla':>4} {'determ':>6} {'median s':>9} {'min s':>7} "
        f"{'max s':>7} {'x plain':>8} {'x nondet':>8} {'peak MB':>8} "
        f"{'x plain':>8}")
  for row in rows:
    plain = [r for r in rows if r["method"] == "scratch"
             and (r["jit"], r["det"]) == (row["jit"], row["det"])]
    free = [r for r in rows if (r["method"], r["jit"]) == (row["method"], row["jit"])
            and r["det"] == "off"]
    ratio = f"{row['median'] / plain[0]['median']:8.1f}" if plain else " " * 8
    rss = f"{row['rss'] / plain[0]['rss']:8.2f}" if plain else " " * 8
    cost = f"{row['median'] / free[0]['median']:8.2f}" if free else " " * 8
    print(f"{row['method']:>24} {row['jit']:>4} {row['det']:>6} {row['median']:9.3f} "
          f"{row['min']:7.3f} {row['max']:7.3f} {ratio} {cost} "
          f"{row['rss']:8.0f} {rss}")


if __name__ == "__main__":
  console.quiet_tensorflow()  # the children's too: they run this module
  define_flags()
  app.run(main)
