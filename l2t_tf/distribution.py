"""Devices and tf.distribute: XLA default, the strategy, and which worker writes."""
import json
import os
import tempfile

import tensorflow as tf

from l2t_tf.errors import UserError

STRATEGIES = ("auto", "default", "mirrored", "multi_worker")


def resolve_jit_compile(setting, deterministic: bool = False) -> bool:
  """'auto' means XLA on GPU only: on CPU it was measured ~2.7x slower (BUILD.md).

  Op determinism turns XLA off (Keras does so silently): 'auto' resolves to
  False then, and an explicit True is refused.
  """
  if str(setting).lower() in ("true", "false"):
    setting = str(setting).lower() == "true"
  elif setting != "auto":
    raise UserError(f"train.jit_compile must be True, False or 'auto', got "
                    f"{setting!r}", "pass --config.train.jit_compile=False")
  if deterministic:
    if setting is True:
      raise UserError("train.jit_compile=True with deterministic=True: XLA has "
                      "no deterministic mode, so Keras would run without it",
                      "pass --config.train.jit_compile=auto (or False), or "
                      "drop --config.deterministic")
    return False
  if isinstance(setting, bool):
    return setting
  return bool(tf.config.list_physical_devices("GPU"))


def _tf_config() -> dict:
  try:
    return json.loads(os.environ.get("TF_CONFIG") or "{}")
  except json.JSONDecodeError as e:
    raise UserError(f"TF_CONFIG is not valid JSON ({e.msg})",
                    "see README 'Training on several machines' for its form") from None


def make_strategy(setting: str) -> tf.distribute.Strategy:
  """The tf.distribute strategy for `train.strategy`.

  'auto': MultiWorkerMirroredStrategy when TF_CONFIG names a cluster,
  MirroredStrategy over all GPUs when there are several, else the default.
  Call this before any other TensorFlow op: collective ops for several workers
  must be configured at program start.
  """
  if setting not in STRATEGIES:
    raise UserError(f"unknown train.strategy '{setting}'", f"use one of {STRATEGIES}")
  cluster = _tf_config().get("cluster")
  if setting == "multi_worker" or (setting == "auto" and cluster):
    if not cluster:
      raise UserError("train.strategy='multi_worker' but TF_CONFIG names no "
                      "cluster", "set TF_CONFIG on every worker (README)")
    return _once(tf.distribute.MultiWorkerMirroredStrategy)
  if setting == "mirrored" or (
      setting == "auto" and len(tf.config.list_physical_devices("GPU")) > 1):
    return _once(tf.distribute.MirroredStrategy)
  return tf.distribute.get_strategy()


_made: dict = {}


def _once(kind) -> tf.distribute.Strategy:
  """One strategy of each kind per process, reused by every run in it.

  A second MirroredStrategy in the same process reuses the first one's
  collective instance keys, and its first all-reduce then fails with "Shape
  mismatch in the collective instance" (seen when a comparison or grid ran
  several methods under train.strategy='mirrored').
  """
  if kind not in _made:
    _made[kind] = kind()
  return _made[kind]


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """True on the one worker that writes checkpoints, logs, models and exports."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  return (resolver.task_type == "chief"
          or (resolver.task_type == "worker" and resolver.task_id == 0
              and "chief" not in resolver.cluster_spec().as_dict()))


def describe_devices(strategy: tf.distribute.Strategy) -> str:
  """The devices a run trains on, for its first lines: 'CPU:0 (2 CPU cores)'."""
  gpus = tf.config.list_physical_devices("GPU")
  try:
    devices = [d.split("device:")[-1] for d in strategy.extended.worker_devices]
  except RuntimeError:  # the default strategy: TensorFlow's own placement
    devices = ["GPU:0" if gpus else "CPU:0"]
  names = [tf.config.experimental.get_device_details(g).get("device_name", "GPU")
           for g in gpus]
  return (f"{', '.join(devices)} ({', '.join(names) if names else 'no GPU'}; "
          f"{os.cpu_count()} CPU cores)")


def log_dir(workdir: str, chief: bool) -> str:
  """TensorBoard folder: the workdir's for the chief, a throwaway one otherwise."""
  return os.path.join(workdir, "logs") if chief else tempfile.mkdtemp()



def adapt_to_multi_worker(model, strategy: tf.distribute.Strategy) -> None:
  """Works around two Keras 3.15 bugs under MultiWorkerMirroredStrategy
  (keras-team/keras#20585, open), for this model instance only:

  - `fit`/`evaluate` first reduce a distributed batch eagerly for a symbolic
    build and fail ("Attempt to convert a value (PerReplica ...)"). Our models
    are fully built before `fit` (methods.build_model), so it is skipped.
  - the step's logs are reduced with `axis=0`, which fails on scalars
    ("Invalid reduction dimension 0"); they are returned as shape [1] instead
    and come out of the reduction as scalars again.
  """
  if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    return
  model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None  # pylint: disable=protected-access
  for name in ("train_step", "test_step"):
    step = getattr(model, name)
    setattr(model, name, lambda data, step=step: {
        key: tf.reshape(value, [1]) for key, value in step(data).items()})
