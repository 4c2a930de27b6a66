"""Test set-up: quiet TF, two logical CPUs and one MirroredStrategy over them."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture
def float64():
  """Runs a test with Keras's default float type set to float64."""
  import keras  # pylint: disable=g-import-not-at-top
  # Both: once Keras has a global dtype policy, floatx alone no longer applies.
  keras.config.set_floatx("float64")
  keras.config.set_dtype_policy("float64")
  yield
  keras.config.set_floatx("float32")
  keras.config.set_dtype_policy("float32")


@pytest.fixture
def ram():
  """A fresh folder on ram://, TensorFlow's in-memory filesystem, which stands
  in for an object store (gs://): one per process, so a unique name each."""
  import uuid  # pylint: disable=g-import-not-at-top
  root = f"ram://test-{uuid.uuid4().hex}"
  yield root
  if tf.io.gfile.exists(root):
    tf.io.gfile.rmtree(root)


@pytest.fixture
def cut_upload(monkeypatch):
  """cut_upload(name): uploads (storage's gfile.copy) of a file ending in
  `name` fail as a lost connection does; cut_upload(None) lets all through."""
  from l2t_tf import storage  # pylint: disable=g-import-not-at-top
  copy = storage.gfile.copy

  def cut(name):
    def upload(src, dst, overwrite):
      if name and dst.endswith(name):
        raise tf.errors.UnavailableError(None, None, "connection lost")
      copy(src, dst, overwrite)
    monkeypatch.setattr(storage.gfile, "copy", upload)
  return cut


@pytest.fixture(scope="session")
def mirrored():
  """One MirroredStrategy over the two logical CPUs for the whole session: a
  second one in the same process would clash with the first's collectives."""
  return tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"])


# The fast loop, `python -m pytest -q tests -m "not slow"`, leaves out what runs
# main.py in subprocesses or trains for many steps (BUILD.md gives its time).
# Whole modules here; single slow tests elsewhere carry @pytest.mark.slow.
SLOW_MODULES = ("test_main.py", "test_resume.py", "test_multi_worker.py",
                "test_export.py", "test_visualise.py", "test_bench.py")


def pytest_configure(config):
  config.addinivalue_line("markers", "slow: left out of the fast loop "
                          "(-m 'not slow'); CI runs everything")
  # Keras 3.15 calls np.array(x, copy=False) on its variables, which NumPy 2
  # deprecates for objects without a `copy` argument: theirs, not ours, and
  # harmless (the values are copied).
  config.addinivalue_line("filterwarnings", "ignore:__array__ implementation "
                          "doesn't accept a copy keyword:DeprecationWarning")


def pytest_collection_modifyitems(items):
  for item in items:
    if item.path.name in SLOW_MODULES:
      item.add_marker(pytest.mark.slow)
