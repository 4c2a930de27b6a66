"""run(config, workdir): data, model, fit with checkpoints, results and export.

Rerunning the same command on the same workdir resumes from the newest
checkpoint (see checkpoints.py); a finished workdir is never touched again.
"""
import contextlib
import hashlib
import os
import time

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from l2t_tf import callbacks as callbacks_lib
from l2t_tf import checkpoints, config_checks, distribution, export, methods, storage
from l2t_tf import reports, summaries
from l2t_tf import workdir as workdir_lib
from l2t_tf.data import joint, pipeline
from l2t_tf.errors import UserError
from l2t_tf.models import layers


def weights_fingerprint(model: keras.Model) -> str:
  """sha256 of all weights' bytes: equal fingerprints mean bitwise equal weights."""
  digest = hashlib.sha256()
  for weight in model.get_weights():
    digest.update(np.ascontiguousarray(weight).tobytes())
  return digest.hexdigest()


def check_run(config, workdir: str) -> None:
  """What can be checked of a run before any data loads; grids and comparisons
  check every planned run with it before the first one trains."""
  config_checks.check(config)
  methods.check_config(config)
  distribution.resolve_jit_compile(config.train.jit_compile, config.deterministic)
  if config.model.get("weights") and not config.model.name.startswith("keras:"):
    raise UserError(f"model.weights='{config.model.weights}' is for Keras "
                    f"applications, but model.name is '{config.model.name}', "
                    "which starts from random weights", "drop model.weights, or "
                    "use e.g. --config.model.name=keras:ResNet50")
  if storage.exists(workdir) and not storage.isdir(workdir):
    raise UserError(f"--workdir {workdir} is a file", "pass a folder (new or a "
                    "run's) as --workdir")
  if config.data.val_per_class < 1:
    raise UserError(f"data.val_per_class must be >= 1, got "
                    f"{config.data.val_per_class}: the best epoch, the reported "
                    "accuracy and L2T-ww's statistics are taken on validation",
                    "hold out a few images per class, e.g. --config.data.val_per_class=10")


def _export_base(config, workdir: str) -> str:
  return config.export.base_dir or os.path.join(workdir, "export")


def run(config, workdir: str) -> dict:
  """Trains `config.method` (or resumes it) and writes its results to workdir.

  Everything that can fail on bad input (config, data, sources, export
  version) is checked before the workdir is touched.
  """
  start = time.time()
  strategy = distribution.make_strategy(config.train.strategy)  # first, see there
  chief = distribution.is_chief(strategy)
  check_run(config, workdir)
  keras.utils.set_random_seed(config.seed)
  if config.deterministic:
    tf.config.experimental.enable_op_determinism()
  if config.export.enabled:
    export.check_version_free(_export_base(config, workdir),
                              config.export.model_name, config.export.version)
  datasets = pipeline.build_datasets(config.data, config.train.batch_size,
                                     seed=config.seed)
  source_classes = []
  if methods.get(config.method).source_dataset:  # it joins the training stream
    datasets, source_classes = joint.add_source(
        datasets, config.l2tl, methods.l2tl_source_batch_size(config), config.seed)
  jit_compile = distribution.resolve_jit_compile(config.train.jit_compile,
                                                 config.deterministic)
  with strategy.scope():
    model, target = methods.build_for_data(config, datasets, jit_compile,
                                           source_classes=source_classes)
  distribution.adapt_to_multi_worker(model, strategy)
  variables = checkpoints.training_variables(model)
  state_bytes = sum(int(np.prod(v.shape)) * 4 for v in variables)
  with contextlib.ExitStack() as held:  # the chief holds the workdir's lock
    if chief:
      held.enter_context(workdir_lib.lock(workdir))
      workdir_lib.prepare(workdir, config.to_json_best_effort(),
                          unused=methods.get(config.method).unused_sections(),
                          required_bytes=(config.checkpoint.keep + 2) * state_bytes)
      for path in workdir_lib.remove_leftovers(workdir):
        logging.info("removed %s, left by an interrupted run", path)
    return _train(config, workdir, model, target, datasets, variables, chief,
                  strategy, jit_compile, start, source_classes)


def _train(config, workdir, model, target, datasets, variables, chief, strategy,
           jit_compile, start, source_classes) -> dict:
  """Restores, fits and writes the outputs of a prepared (and locked) run."""
  steps = datasets.steps_per_epoch
  checkpointer = checkpoints.Checkpointer(workdir, config.checkpoint.keep)
  best = callbacks_lib.BestOnValidation(target)
  state, metric_values = _restore(model, variables, checkpointer, best)
  if chief:
    workdir_lib.record_config(workdir, config.to_json_best_effort())
  logging.info("device: %s", distribution.describe_devices(strategy))
  logging.info("method=%s data=%s jit_compile=%s replicas=%d", config.method,
               datasets.sizes, jit_compile, strategy.num_replicas_in_sync)

  guard = callbacks_lib.StopOnNonFinite()
  saver = callbacks_lib.Checkpointing(
      checkpointer, steps, config.checkpoint.every_steps, best, guard, state,
      metric_values, chief)
  log_dir = distribution.log_dir(workdir, chief)
  if chief:
    summaries.write_config(log_dir, config.to_json_best_effort())
  chance = callbacks_lib.ChanceWarning(datasets.num_classes, steps,
                                       config.train.learning_rate)
  callbacks = [guard, best, chance, saver, keras.callbacks.TensorBoard(log_dir)]
  if config.train.test_every_epoch:  # before the tracker and TensorBoard
    callbacks.insert(1, callbacks_lib.TestEvaluation(datasets.test, guard))
  context = reports.RunContext(workdir, log_dir, datasets, fresh=not state,
                               guard=guard, source_classes=tuple(source_classes))
  if chief:
    callbacks[callbacks.index(saver):callbacks.index(saver)] = (
        methods.get(config.method).reports.callbacks(model, context))
  callbacks.append(callbacks_lib.ConsoleLine())  # last: see there
  logging.info("tracing the training step%s: the first batch waits for it",
               methods.get(config.method).trace_note)
  _fit(model, datasets, config, callbacks, state, guard)
  chance.judge()
  if guard.failure:
    raise UserError(
        f"training stopped: the loss became {guard.failure['loss']} at epoch "
        f"{guard.failure['epoch']}, {guard.failure['where']}; the last good "
        f"checkpoint ({checkpointer.latest() or 'none yet'}) is kept",
        "lower --config.train.learning_rate (or transfer.beta) and start a new "
        "--workdir")
  tested = _test_once(model, datasets.test, best,
                      last_epoch=len(saver.history.get("loss", [])),
                      keep=config.train.get("keep_weights", "best_val"))
  logging.debug("target weights sha256 %s", weights_fingerprint(target))
  if not chief:
    return {}
  summaries.write_test(log_dir, tested)
  results = _write_outputs(config, workdir, model, target, datasets, saver.history,
                           tested, time.time() - start, context, chance.warnings)
  summaries.write_figures(log_dir, os.path.join(workdir, "plots"))
  return results


def _test_once(model, test, best, last_epoch: int, keep: str = "best_val") -> dict:
  """The test set, evaluated once on the last weights and once on the best
  validation epoch's, which the target keeps from here on (what is saved and
  exported): best-epoch numbers, plus the last weights' test accuracy. One
  pass when the last epoch is the best, or when `keep` is 'last' (the last
  weights are then the ones tested, saved and exported)."""
  last = model.evaluate(test, verbose=0, return_dict=True)
  chosen = last
  if keep == "best_val" and best.best["best_epoch"] != last_epoch:
    best.restore_best()
    chosen = model.evaluate(test, verbose=0, return_dict=True)
  return {**best.best, "kept_weights": keep,
          "test_accuracy": float(chosen["accuracy"]),
          "test_loss": float(chosen["loss"]),
          "last_test_accuracy": float(last["accuracy"])}


def _restore(model, variables, checkpointer, best) -> tuple[dict, list | None]:
  """(saved state, running metric sums) from the newest checkpoint, if any;
  `best` gets the best epoch so far and its weights."""
  latest = checkpointer.latest()
  if not latest:
    return {}, None
  state = checkpointer.restore(variables, latest, optional=best.variables)
  if not state.pop("optional_restored"):  # a checkpoint of l2t_tf <= 0.1
    logging.warning("%s holds no best-epoch weights: the weights it resumes "
                    "from stand in for them", latest)
    best.keep_current()
  best.best = state.get("best") or best.best
  logging.info("resuming from %s (epoch %d, step %d)", latest, state["epoch"],
               state["step"])
  return state, checkpoints.read_values(model.metrics_variables)


def _fit(model, datasets, config, callbacks, state: dict, guard) -> None:
  """`fit` from the saved position to the last epoch.

  A run resumed mid-epoch first fits the rest of that epoch alone (Keras
  resumes only at epoch boundaries), then the remaining epochs.
  """
  steps = datasets.steps_per_epoch

  def fit(epoch: int, step: int, last_epoch: int):
    model.fit(datasets.train_from(epoch, step, last_epoch),
              validation_data=datasets.val, initial_epoch=epoch, epochs=last_epoch,
              steps_per_epoch=steps - step, verbose=config.train.verbose,
              shuffle=False,  # tf.data shuffles, by (seed, epoch)
              callbacks=callbacks)

  epoch, step = state.get("epoch", 0), state.get("step", 0)
  if step:
    fit(epoch, step, epoch + 1)
    epoch += 1
  if epoch < config.train.epochs and not guard.failure:
    fit(epoch, 0, config.train.epochs)


def _write_outputs(config, workdir, model, target, datasets, history, best,
                   seconds, context: reports.RunContext, warnings) -> dict:
  layers.with_stock_layers(target).save(os.path.join(workdir, "model.keras"))
  final = {k: v[-1] for k, v in history.items()}
  results = {
      "method": config.method,
      "val_accuracy": best["val_accuracy"],
      "test_accuracy": best["test_accuracy"],
      "best_epoch": best["best_epoch"],
      "final_test_accuracy": best["last_test_accuracy"],
      "kept_weights": best["kept_weights"],
      "final": final,
      "history": history,
      "epochs": config.train.epochs,
      "seconds": round(seconds, 1),
      "data_sizes": datasets.sizes,
      "class_names": datasets.class_names,
      "seed": config.seed,
      "warnings": warnings,
  }
  results.update(methods.get(config.method).reports.write_outputs(model, context))
  if config.export.enabled:
    results["export"] = export.export_target(
        target, datasets.class_names, config.data, _export_base(config, workdir),
        config.export.model_name, config.export.version)
  workdir_lib.write_json(workdir, workdir_lib.RESULTS, results)
  return results
