"""scripts/import_graph.py: l2t_tf's imports point one way (no cycle), and
trainers only train (they import no reporting module)."""
import os
import subprocess
import sys

import cli

sys.path.insert(0, os.path.join(cli.ROOT, "scripts"))
import import_graph  # pylint: disable=wrong-import-position,g-import-not-at-top

REPORTING = {"l2t_tf.analysis", "l2t_tf.callbacks", "l2t_tf.plots", "l2t_tf.workdir",
             "l2t_tf.visualise", "l2t_tf.methods", "l2t_tf.train"}


def test_the_package_has_no_import_cycle():
  result = subprocess.run(
      [sys.executable, os.path.join(cli.ROOT, "scripts", "import_graph.py"),
       "--cycles"], capture_output=True, text=True, check=False, cwd=cli.ROOT)
  assert result.returncode == 0, result.stdout
  assert result.stdout == ""


def test_a_cycle_is_found_also_through_a_function_level_import():
  edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
  assert import_graph.cycles(edges) == [["a", "b", "c", "a"]]
  assert not import_graph.cycles({"a": {"b"}, "b": set()})


def test_trainers_import_no_reporting_module():
  edges = import_graph.graph()
  trainers = {m: e for m, e in edges.items() if m.startswith("l2t_tf.trainers.")}
  assert len(trainers) >= 5
  for module, imports in trainers.items():
    assert not imports & REPORTING, (module, imports & REPORTING)
  # lower layers never import the layers that use them
  for low in ("l2t_tf.hooks", "l2t_tf.checkpoints", "l2t_tf.callbacks"):
    assert not edges[low] & {"l2t_tf.trainers.common", "l2t_tf.methods",
                             "l2t_tf.train"}, low
