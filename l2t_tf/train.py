"""run(config, workdir): data, model, fit with evaluation, results.json."""
import os
import time

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from l2t_tf import callbacks as callbacks_lib
from l2t_tf import methods, optim, workdir as workdir_lib
from l2t_tf.data import pipeline
from l2t_tf.errors import UserError


def resolve_jit_compile(setting) -> bool:
  """'auto' means XLA on GPU only: on CPU it was measured ~6x slower (BUILD.md)."""
  if isinstance(setting, bool):
    return setting
  if str(setting).lower() in ("true", "false"):
    return str(setting).lower() == "true"
  if setting != "auto":
    raise UserError(f"train.jit_compile must be True, False or 'auto', got "
                    f"{setting!r}", "pass --config.train.jit_compile=False")
  return bool(tf.config.list_physical_devices("GPU"))


def make_strategy(setting: str) -> tf.distribute.Strategy:
  """'auto': MirroredStrategy over all GPUs when there are several, else default."""
  if setting == "mirrored" or (
      setting == "auto" and len(tf.config.list_physical_devices("GPU")) > 1):
    return tf.distribute.MirroredStrategy()
  if setting in ("auto", "default"):
    return tf.distribute.get_strategy()
  raise UserError(f"unknown train.strategy '{setting}'",
                  "use 'auto', 'default' or 'mirrored'")


def _lambda_statistics(model, dataset) -> dict:
  """Per pair, mean and std of lambda over the validation set."""
  values = []
  for images, _ in dataset:
    _, pooled = model.source_features(images)
    values.append(model.meta_networks(pooled)[1].numpy())
  values = np.concatenate(values)
  return {pair.label: {"source": pair.source.name, "target": pair.target.name,
                       "mean": float(values[:, p].mean()),
                       "std": float(values[:, p].std())}
          for p, pair in enumerate(model.pairs)}


def run(config, workdir: str) -> dict:
  """Trains `config.method` and writes model.keras, logs/ and results.json to workdir.

  Everything that can fail on bad input (config, data, sources) is checked
  before the workdir is touched.
  """
  start = time.time()
  keras.utils.set_random_seed(config.seed)
  if config.deterministic:
    tf.config.experimental.enable_op_determinism()
  datasets = pipeline.build_datasets(config.data, config.train.batch_size,
                                     seed=config.seed)
  steps = optim.steps_per_epoch(datasets.sizes["train"], config.train.batch_size)
  jit_compile = resolve_jit_compile(config.train.jit_compile)
  strategy = make_strategy(config.train.strategy)
  with strategy.scope():
    model, target = methods.build_model(config, datasets.num_classes,
                                        datasets.input_shape, steps, jit_compile)
  workdir_lib.prepare(workdir)
  logging.info("method=%s data=%s jit_compile=%s replicas=%d", config.method,
               datasets.sizes, jit_compile, strategy.num_replicas_in_sync)

  best = callbacks_lib.BestOnValidation()
  history = model.fit(
      datasets.train, validation_data=datasets.val, epochs=config.train.epochs,
      verbose=config.train.verbose, shuffle=False,  # tf.data shuffles
      callbacks=[callbacks_lib.TestEvaluation(datasets.test), best,
                 keras.callbacks.TensorBoard(os.path.join(workdir, "logs"))])
  target.save(os.path.join(workdir, "model.keras"))
  final = {k: float(v[-1]) for k, v in history.history.items()}
  results = {
      "method": config.method,
      "val_accuracy": best.best["val_accuracy"],
      "test_accuracy": best.best["test_accuracy"],
      "best_epoch": best.best["best_epoch"],
      "final_test_accuracy": final.get("test_accuracy"),
      "final": final,
      "epochs": config.train.epochs,
      "seconds": round(time.time() - start, 1),
      "data_sizes": datasets.sizes,
      "class_names": datasets.class_names,
      "seed": config.seed,
  }
  if hasattr(model, "meta_networks"):
    workdir_lib.write_json(workdir, "lambdas.json",
                           _lambda_statistics(model, datasets.val))
  workdir_lib.write_json(workdir, workdir_lib.RESULTS, results)
  return results


def run_comparison(config, workdir: str, methods_to_run) -> dict:
  """Runs several methods, each in workdir/<method>, and returns their results."""
  results = {}
  for method in methods_to_run:
    single = config.copy_and_resolve_references()
    with single.unlocked():
      single.method = method
    results[method] = run(single, os.path.join(workdir, method))
  return results
