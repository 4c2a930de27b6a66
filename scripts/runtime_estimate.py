"""Estimated runtime of each paper experiment on one GPU (docs/reproduce.md).

  python scripts/runtime_estimate.py --ratio_32=10.2 --ratio_224=R

An estimate, not a measurement (no GPU with TensorFlow was available):
  GPU s/step = L2T-ww/plain step ratio (measured on CPU, `python -m l2t_tf.bench`)
               x 3 x forward FLOPs of the target per batch (counted by
               TensorFlow's profiler; backward ~ 2 x forward)
               / an assumed sustained throughput (--tflops, default 10 TFLOP/s:
               about half of an A100's fp32 peak, a V100 at mixed precision).
Step counts are the configs' own: epochs x ceil(training images / batch).
Every run of a grid is costed as L2T-ww (the baselines cost 1-2 plain steps),
and the source's forward pass is left out: upper bounds on the step count's
side, a guess on the throughput's.
"""
import math

from absl import app, flags
import tensorflow as tf

from l2t_tf.errors import UserError, one_line_errors
from l2t_tf.models import backbones

_RATIO_32 = flags.DEFINE_float("ratio_32", 10.2, "Measured L2T-ww / plain step "
                               "time, 32x32 setup (docs/performance.md).")
_RATIO_224 = flags.DEFINE_float("ratio_224", 10.0, "The same, 224x224 setup.")
_TFLOPS = flags.DEFINE_float("tflops", 10.0, "Assumed sustained GPU TFLOP/s.")

# experiment: (setup, training images after validation, batch, runs)
EXPERIMENTS = {
    "Table 1, STL-10 (one method, one seed)": ("32", 4500, 128, 1),
    "Table 1, CIFAR-100 (one method, one seed)": ("32", 45000, 128, 1),
    "Table 1, CUB-200 (one method, one seed)": ("224", 5994 - 1000, 64, 1),
    "Table 1, MIT67 (one method, one seed)": ("224", 5360 - 536, 64, 1),
    "Table 1, Stanford40 (one method, one seed)": ("224", 4000 - 400, 64, 1),
    "Table 1, Stanford Dogs (one method, one seed)": ("224", 12000 - 1200, 64, 1),
    "Table 1, STL-10 column (9 methods x 3 seeds)": ("32", 4500, 128, 27),
    "Table 2, one second source (3 rows x 3 seeds)": ("32", 4500, 128, 9),
    "Tables 3/4, one dataset (2 rows x 3 seeds, CUB-200)": ("224", 4994, 64, 6),
    "Figure 5 (5 methods x 3 seeds; steps summed over N = 50..1000)":
        ("32", None, 128, 15),
}
TARGETS = {"32": ("vgg9", 32, 10), "224": ("resnet18", 224, 200)}


def forward_flops(name: str, size: int, classes: int) -> float:
  """FLOPs of one image's forward pass (TensorFlow's profiler on the graph)."""
  model = backbones.BACKBONES[name](num_classes=classes, input_shape=(size, size, 3))
  forward = tf.function(lambda x: model(x, training=False)).get_concrete_function(
      tf.TensorSpec((1, size, size, 3), tf.float32))
  from tensorflow.python.framework import convert_to_constants  # pylint: disable=g-import-not-at-top
  graph = convert_to_constants.convert_variables_to_constants_v2(forward).graph
  options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
  options["output"] = "none"
  return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops


@one_line_errors
def main(argv):
  del argv
  for flag in (_RATIO_32, _RATIO_224, _TFLOPS):
    if not flag.value > 0:
      raise UserError(f"--{flag.name} must be positive, got {flag.value}",
                      f"pass e.g. --{flag.name}={flag.default}")
  tf.get_logger().setLevel("ERROR")  # the v1 profiler's deprecation notices
  flops = {setup: forward_flops(*TARGETS[setup]) for setup in TARGETS}
  ratio = {"32": _RATIO_32.value, "224": _RATIO_224.value}
  print(f"forward GFLOPs per image: VGG-9 32x32 {flops['32'] / 1e9:.2f}, "
        f"ResNet-18 224x224 {flops['224'] / 1e9:.2f}; assumed {_TFLOPS.value} "
        "TFLOP/s sustained")
  print("| experiment | steps per run | est. GPU s/step | est. GPU hours |")
  print("|---|---|---|---|")
  for name, (setup, images, batch, runs) in EXPERIMENTS.items():
    per_step = ratio[setup] * 3 * flops[setup] * batch / (_TFLOPS.value * 1e12)
    if images is None:  # Figure 5: 10 classes x N images, 5 sizes
      steps = sum(200 * math.ceil(10 * n / batch) for n in (50, 100, 250, 500, 1000))
    else:
      steps = 200 * math.ceil(images / batch)
    print(f"| {name} | {steps:,} | {per_step:.2f} | "
          f"{runs * steps * per_step / 3600:.1f} |")


if __name__ == "__main__":
  app.run(main)
