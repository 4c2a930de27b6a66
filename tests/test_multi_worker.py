"""MultiWorkerMirroredStrategy: two worker processes on localhost, via TF_CONFIG."""
import json
import os
import re
import socket
import subprocess

import cli


def _free_ports(n: int) -> list[int]:
  sockets = [socket.socket() for _ in range(n)]
  for s in sockets:
    s.bind(("localhost", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def test_two_workers_end_identical_and_only_the_chief_writes(tmp_path):
  workers = [f"localhost:{port}" for port in _free_ports(2)]
  # Separate workdirs show who writes; a real cluster shares one (README).
  workdirs = [tmp_path / "chief", tmp_path / "worker1"]
  processes = []
  for index, workdir in enumerate(workdirs):
    tf_config = json.dumps({"cluster": {"worker": workers},
                            "task": {"type": "worker", "index": index}})
    processes.append(subprocess.Popen(
        cli.command("--config.method=l2t_ww", "--config.checkpoint.every_steps=1",
                    "--verbosity=1",  # debug lines: the weights' fingerprint
                    workdir=workdir),
        cwd=cli.ROOT, env=cli.env(TF_CONFIG=tf_config), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE))
  outputs = [p.communicate(timeout=600) for p in processes]
  for process, (_, stderr) in zip(processes, outputs):
    assert process.returncode == 0, stderr[-2000:]
  assert all("replicas=2" in stderr for _, stderr in outputs)
  fingerprints = [re.search(r"target weights sha256 (\w+)", stderr).group(1)
                  for _, stderr in outputs]
  assert fingerprints[0] == fingerprints[1]
  chief = os.listdir(workdirs[0])
  for written in ("checkpoints", "export", "model.keras", "results.json"):
    assert written in chief
  assert not workdirs[1].exists()
