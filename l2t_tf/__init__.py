"""l2t_tf: learned knowledge transfer between heterogeneous networks (L2T-ww)."""

__version__ = "0.1.0"

import pathlib

ASSETS = pathlib.Path(__file__).resolve().parent / "assets"
# Shipped files are named `assets:NAME` in configs (and the config.json a run
# saves), so a workdir stays valid from another checkout, venv or container.
ASSET_PREFIX = "assets:"
# The authors' TinyImageNet ResNet-32 (third_party/alinlab_l2t_ww, MIT), made
# by l2t_tf.convert: the paper's source for its 32x32 experiments.
AUTHORS_SOURCE = "source_resnet32_tinyimagenet.keras"


def asset(name: str) -> str:
  """The location-free name of a file shipped in l2t_tf/assets."""
  return ASSET_PREFIX + name


def resolve_asset(path: str) -> str:
  """`assets:NAME` -> the installed file's path; any other path unchanged."""
  if path.startswith(ASSET_PREFIX):
    return str(ASSETS / path[len(ASSET_PREFIX):])
  return path
