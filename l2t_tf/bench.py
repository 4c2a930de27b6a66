"""Times one training step of the real trainers: plain CE (scratch) vs FM vs L2T-ww.

  python -m l2t_tf.bench --batch=64 --width=1.0 --jit=off,on --steps=5

ResNet-32 source, VGG-9 target, 32x32 inputs, all-to-all pairs (15), T = 2.
Prints median/min/max seconds per step and each method's ratio to the plain
step measured in the same run (compare ratios: these machines are noisy).
Weights are random: step time does not depend on them.
"""
import statistics
import tempfile
import time

from absl import app, flags
import keras
import numpy as np
import tensorflow as tf

from configs import common
from l2t_tf import methods
from l2t_tf.models import backbones

_BATCH = flags.DEFINE_integer("batch", 64, "Batch size.")
_WIDTH = flags.DEFINE_float("width", 1.0, "Width multiplier of both networks.")
_STEPS = flags.DEFINE_integer("steps", 5, "Timed steps (after 2 warm-up steps).")
_JIT = flags.DEFINE_list("jit", ["off", "on"], "XLA settings to time.")
_METHODS = flags.DEFINE_list("methods", ["scratch", "fm", "l2t_ww"], "Methods.")
_INNER = flags.DEFINE_integer("inner_steps", 2, "T.")
_DETERMINISM = flags.DEFINE_list(
    "determinism", ["off"], "Op determinism settings to time ('on' rows run "
    "last: TF cannot switch it off again; XLA rows are skipped with it on, as "
    "XLA has no deterministic MaxPool gradient).")
_THREADS = flags.DEFINE_integer("threads", 0, "TF intra/inter-op threads (0: TF's default).")


def time_step(method: str, jit: bool, source_path: str, images, labels) -> list[float]:
  config = common.get_base_config()
  config.method = method
  config.model.width = _WIDTH.value
  config.transfer.source_paths = (source_path,)
  config.transfer.inner_steps = _INNER.value
  model, _ = methods.build_model(config, 10, (32, 32, 3), steps_per_epoch=100,
                                 jit_compile=jit)
  step = tf.function(model.train_step, jit_compile=jit)
  times = []
  for i in range(2 + _STEPS.value):
    start = time.perf_counter()
    logs = step((images, labels))
    float(logs["loss"])  # wait for the step to finish
    if i >= 2:
      times.append(time.perf_counter() - start)
  return times


def main(_):
  if _THREADS.value:
    tf.config.threading.set_intra_op_parallelism_threads(_THREADS.value)
    tf.config.threading.set_inter_op_parallelism_threads(_THREADS.value)
  rng = np.random.RandomState(0)
  images = tf.constant(rng.normal(size=(_BATCH.value, 32, 32, 3)), tf.float32)
  labels = tf.constant(rng.randint(0, 10, _BATCH.value))
  with tempfile.TemporaryDirectory() as folder:
    source_path = f"{folder}/source.keras"
    backbones.BACKBONES["resnet32"](num_classes=200, input_shape=(32, 32, 3),
                                    width=_WIDTH.value).save(source_path)
    rows = []
    for deterministic in sorted(_DETERMINISM.value, key=lambda d: d == "on"):
      if deterministic == "on":
        tf.config.experimental.enable_op_determinism()
      for jit in _JIT.value:
        if jit == "on" and deterministic == "on":
          continue
        for method in _METHODS.value:
          times = time_step(method, jit == "on", source_path, images, labels)
          rows.append((method, jit, deterministic, statistics.median(times),
                       min(times), max(times)))
  print(f"\nbatch {_BATCH.value}, width {_WIDTH.value}, T={_INNER.value}, "
        f"{tf.config.list_physical_devices()}")
  print(f"{'method':>8} {'xla':>4} {'determ':>6} {'median s':>9} {'min s':>7} "
        f"{'max s':>7} {'x plain':>8} {'x nondet':>8}")
  for method, jit, deterministic, median, low, high in rows:
    plain = [r[3] for r in rows if r[0] == "scratch" and r[1:3] == (jit, deterministic)]
    free = [r[3] for r in rows if r[:2] == (method, jit) and r[2] == "off"]
    ratio = f"{median / plain[0]:8.1f}" if plain else "       -"
    cost = f"{median / free[0]:8.2f}" if free else "       -"
    print(f"{method:>8} {jit:>4} {deterministic:>6} {median:9.3f} {low:7.3f} "
          f"{high:7.3f} {ratio} {cost}")


if __name__ == "__main__":
  app.run(main)
