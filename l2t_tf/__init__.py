"""l2t_tf: learned knowledge transfer between heterogeneous networks (L2T-ww)."""

__version__ = "0.1.0"

import pathlib

ASSETS = pathlib.Path(__file__).resolve().parent / "assets"
