"""Callbacks: test evaluation each epoch and best-on-validation tracking."""
import keras


class TestEvaluation(keras.callbacks.Callback):
  """Adds `test_loss` and `test_accuracy` to each epoch's logs.

  Put it before TensorBoard and the best-epoch tracker so they see the values.
  """

  def __init__(self, test_dataset):
    super().__init__()
    self.test_dataset = test_dataset

  def on_epoch_end(self, epoch, logs=None):
    results = self.model.evaluate(self.test_dataset, verbose=0, return_dict=True)
    if logs is not None:
      logs["test_loss"] = float(results["loss"])
      logs["test_accuracy"] = float(results["accuracy"])


class BestOnValidation(keras.callbacks.Callback):
  """Remembers the epoch with the best validation accuracy and its test accuracy."""

  def __init__(self):
    super().__init__()
    self.best = {"best_epoch": 0, "val_accuracy": -1.0, "test_accuracy": None}

  def on_epoch_end(self, epoch, logs=None):
    logs = logs or {}
    if logs.get("val_accuracy", -1.0) > self.best["val_accuracy"]:
      self.best = {"best_epoch": epoch + 1,
                   "val_accuracy": float(logs["val_accuracy"]),
                   "test_accuracy": float(logs.get("test_accuracy", float("nan")))}
