"""The benchmark harness runs end to end and prints its table (no timing asserted)."""
import subprocess
import sys

import cli


def test_bench_prints_the_table_with_ratios_and_memory():
  result = subprocess.run(
      [sys.executable, "-m", "l2t_tf.bench", "--batch=4", "--width=0.0625",
       "--source_width=0.0625", "--steps=1", "--jit=off",
       "--methods=scratch,l2t_ww,l2t_ww:alignment", "--inner_steps=1"],
      capture_output=True, text=True, cwd=cli.ROOT, env=cli.env(), timeout=600)
  assert result.returncode == 0, result.stderr[-2000:]
  rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()
          if line.split() and line.split()[0].startswith(("scratch", "l2t_ww"))}
  assert set(rows) == {"scratch", "l2t_ww", "l2t_ww:alignment"}
  assert rows["scratch"][6] == "1.0"            # x plain of the plain step
  assert float(rows["l2t_ww"][6]) > 1.0         # the meta step costs more
  assert float(rows["l2t_ww"][8]) > 100         # peak RSS in MB
  assert float(rows["l2t_ww:alignment"][6]) > 1.0
  assert "images/s" in result.stdout


def test_bad_flag_values_are_one_line_before_any_timing():
  for flag, message in (("--methods=scratch,bogus", "unknown method 'bogus'"),
                        ("--steps=0", "--steps must be >= 1"),
                        ("--methods=l2t_ww:bogus", "is not l2t_ww:OBJECTIVE"),
                        ("--methods=l2tl", "l2tl is not timed by the bench"),
                        ("--jit=maybe", "--jit=maybe is not on or off")):
    result = subprocess.run([sys.executable, "-m", "l2t_tf.bench", flag],
                            capture_output=True, text=True, cwd=cli.ROOT,
                            env=cli.env(), timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert cli.error_lines(result) == result.stderr.strip().splitlines()
    assert message in result.stderr and "timing" not in result.stderr
