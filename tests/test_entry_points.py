"""The installed commands: `l2t-tf` and the tools' entry points; the tools
define their flags only when run, so importing them (the library) defines none."""
import importlib.metadata
import os
import subprocess
import sys

import cli
from l2t_tf import main


def _python(code: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                        cwd=cli.ROOT, env=cli.env(), timeout=300, check=False)


def test_importing_the_tools_defines_no_flag():
  result = _python(
      "from absl import flags\n"
      "from l2t_tf import bench, convert, main, serving_client\n"
      "print(sorted(n for n in ('from', 'images', 'setup', 'workdir', 'config')"
      " if n in flags.FLAGS))")
  assert result.returncode == 0, result.stderr
  assert result.stdout.strip() == "[]"


def test_the_commands_are_installed_entry_points():
  scripts = {e.name: e.value for e in
             importlib.metadata.entry_points(group="console_scripts")}
  assert scripts["l2t-tf"] == "l2t_tf.main:run"
  for tool in ("convert", "bench", "serving-client"):
    assert scripts[f"l2t-tf-{tool}"].startswith("l2t_tf.entry_points:")


def test_a_shipped_config_by_name():
  quickstart = os.path.join(cli.ROOT, "configs", "quickstart.py")
  resolved = main.shipped_config(["prog", "--config=quickstart",
                                  "--config=known_answer_verdict:what",
                                  "--config=configs/stl10.py", "--config=nosuch",
                                  "--workdir=quickstart"])
  assert os.path.samefile(resolved[1].split("=", 1)[1], quickstart)
  assert resolved[2].endswith(os.path.join("configs", "known_answer_verdict.py:what"))
  assert resolved[3:] == ["--config=configs/stl10.py", "--config=nosuch",
                          "--workdir=quickstart"]


def test_a_tool_run_from_its_entry_point_says_one_line_on_bad_input(tmp_path):
  result = _python("import sys; sys.argv = ['l2t-tf-convert', "
                   f"'--from={tmp_path}/missing.pth', '--out={tmp_path}/x.keras']\n"
                   "from l2t_tf import entry_points; entry_points.convert()")
  assert result.returncode == 2
  errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1 and "does not exist" in errors[0], result.stderr
  result = _python("import sys; sys.argv = ['l2t-tf-serving-client', "
                   f"'--images={tmp_path}', '--rest']\n"
                   "from l2t_tf import entry_points; entry_points.serving_client()")
  assert result.returncode == 2
  assert [l for l in result.stderr.splitlines() if l.startswith("error:")], result.stderr
