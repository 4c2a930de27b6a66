"""Layer and optimizer names that do not depend on what the process built before.

Keras names an unnamed layer `dense`, then `dense_1`, ... counting over the
whole process, so the second model a process builds (a comparison's second
method, a test's fresh copy) gets other variable paths than the same model
built first. Checkpoints restore by path, so models are built with the
counters of a fresh process.
"""
import collections
import contextlib
from typing import Iterator

from keras.src.backend.common import global_state

_UIDS = "object_name_uids"  # keras.src.utils.naming's counters


@contextlib.contextmanager
def fresh_names() -> Iterator[None]:
  """Within it, Keras's automatic names count from zero, as in a new process."""
  saved = global_state.get_global_attribute(_UIDS)
  global_state.set_global_attribute(_UIDS, collections.defaultdict(int))
  try:
    yield
  finally:
    global_state.set_global_attribute(_UIDS, saved)
