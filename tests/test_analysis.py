"""analysis: known-answer verdicts and the hypergradient's significance, by hand."""
import math

import numpy as np
import pytest

from l2t_tf import analysis


def test_hypergradient_t_pools_the_epochs_steps():
  # Epoch 1: 4 steps of mean 1, std 1; epoch 2: 4 steps of mean 3, std 1.
  trace = {"1": {"hypergrad/a": 1.0, "hypergrad_snr/a": 1.0, "steps": 4},
           "2": {"hypergrad/a": 3.0, "hypergrad_snr/a": 3.0, "steps": 4},
           "3": {"hypergrad/a": 0.0, "hypergrad_snr/a": 0.0, "steps": 4}}  # no meta step
  # Pooled: mean 2, E[g^2] = ((1 + 1) + (1 + 9)) / 2 = 6, variance 2, n = 8.
  t = analysis.hypergradient_t(trace)["a"]
  assert t == pytest.approx(2.0 / math.sqrt(2.0 / 8))
  # Without recorded steps, the caller's steps per epoch count.
  for entry in trace.values():
    del entry["steps"]
  assert analysis.hypergradient_t(trace, steps_per_epoch=4)["a"] == pytest.approx(t)


def _entry(network, start, end, weights=None, start_weights=None):
  entry = {"source_network": network, "mean": end, "init": {"mean": start}}
  if weights is not None:
    entry["channel_weights"] = weights
    entry["init"]["channel_weights"] = start_weights
  return entry


def test_known_answer_where_needs_the_margin_and_a_fall():
  paths = ("real.keras", "decoy:real.keras")
  stats = {"1_1": _entry(0, 1.0, 1.2), "1_2": _entry(0, 1.0, 1.0),
           "s1.1_1": _entry(1, 1.0, 0.7), "s1.1_2": _entry(1, 1.0, 0.9)}
  where = analysis.known_answer_summary(stats, paths)["where"]
  assert where["gap"] == pytest.approx(1.1 - 0.8) and where["passed"]
  stats["s1.1_1"]["mean"] = 0.9  # gap 0.2: not enough
  assert not analysis.known_answer_summary(stats, paths)["where"]["passed"]


def test_known_answer_what_is_the_mass_on_the_second_half():
  uniform = [0.25] * 4
  stats = {"1_1": _entry(0, 1.0, 1.0, [0.4, 0.3, 0.2, 0.1], uniform),
           "1_2": _entry(0, 1.0, 1.0, [0.3, 0.3, 0.2, 0.2], uniform)}
  what = analysis.known_answer_summary(stats, ("noisy:real.keras",))["what"]
  assert [m["end"] for m in what["pairs"]] == pytest.approx([0.3, 0.4])
  assert what["mean_start"] == pytest.approx(0.5)
  assert what["mean_end"] == pytest.approx(0.35) and what["passed"]
  assert np.isclose(analysis.NOISE_MASS_MAX, 0.4)
