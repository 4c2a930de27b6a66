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
  # A harmful: source plays the decoy's part.
  harmful = analysis.known_answer_summary(stats, ("real.keras", "harmful:bad.keras"))
  assert harmful["where"]["gap"] == pytest.approx(1.1 - 0.9)


def test_known_answer_what_is_the_mass_on_the_second_half():
  uniform = [0.25] * 4
  stats = {"1_1": _entry(0, 1.0, 1.0, [0.4, 0.3, 0.2, 0.1], uniform),
           "1_2": _entry(0, 1.0, 1.0, [0.3, 0.3, 0.2, 0.2], uniform)}
  what = analysis.known_answer_summary(stats, ("noisy:real.keras",))["what"]
  assert [m["end"] for m in what["pairs"]] == pytest.approx([0.3, 0.4])
  assert what["mean_start"] == pytest.approx(0.5)
  assert what["mean_end"] == pytest.approx(0.35) and what["passed"]
  assert np.isclose(analysis.NOISE_MASS_MAX, 0.4)


def test_policy_signal_is_the_pearson_correlation_and_its_t():
  rng = np.random.default_rng(0)
  steps, classes = 40, 3
  lam = rng.integers(0, 11, size=(steps, classes)) / 10
  lam[:, 2] = 1.0  # uniform weights: no variation, no correlation
  reward = rng.normal(0.5, 0.1, steps) + 0.3 * lam[:, 0]
  advantage = reward - 0.5
  sums = {"count": steps, "reward": reward.sum(), "reward_sq": (reward ** 2).sum(),
          "advantage": advantage.sum(), "advantage_sq": (advantage ** 2).sum(),
          "lambda": lam.sum(0), "lambda_sq": (lam ** 2).sum(0),
          "lambda_advantage": (lam * advantage[:, None]).sum(0)}
  signal = analysis.policy_signal(sums)
  for c in (0, 1):
    r = np.corrcoef(lam[:, c], advantage)[0, 1]
    assert signal["lambda_advantage_correlation"][c] == pytest.approx(r, rel=1e-6)
    assert signal["lambda_advantage_t"][c] == pytest.approx(
        r * np.sqrt(steps - 2) / np.sqrt(1 - r * r), rel=1e-6)
  assert signal["lambda_advantage_correlation"][2] is None
  assert signal["reward_std"] == pytest.approx(reward.std(), rel=1e-6)
  assert signal["significant_classes"] == 1  # class 0 drives the reward
  assert analysis.policy_signal({**sums, "count": 0}) == {"steps": 0}


def test_l2tl_known_answer_counts_the_related_classes_at_the_top():
  names = [f"garment:{i}" for i in range(10)] + [f"digit:{i}" for i in range(10)]
  start = [0.5] * 20
  end = [0.4] * 10 + [0.6] * 7 + [0.3] * 3  # 7 digits above every garment
  signal = [-1.0] * 10 + [1.0] * 10  # the digits' lambda raised the reward
  trace = {"0": {"expected_lambda": start},
           "1": {"expected_lambda": end, "significant_classes": 2,
                 "lambda_advantage_t": signal}}
  verdict = analysis.l2tl_known_answer(trace, names)
  assert verdict["related_in_top"] == 7 and verdict["passed"] and verdict["learned"]
  assert verdict["related_end"] == pytest.approx((7 * 0.6 + 3 * 0.3) / 10)
  assert verdict["other_start"] == 0.5 and verdict["significant_classes_per_epoch"] == [2]
  assert verdict["z_gap"] == pytest.approx(2.0 / math.sqrt(0.2))
  assert verdict["related_z"] == 1.0 and verdict["other_z"] == -1.0
  # The ranking without a signal behind it is not an answer ...
  trace["1"]["lambda_advantage_t"] = [0.0] * 20
  assert not analysis.l2tl_known_answer(trace, names)["passed"]
  # ... nor a signal the ranking contradicts.
  trace["1"].update(lambda_advantage_t=signal,
                    expected_lambda=[0.6] * 10 + [0.4] * 10)
  assert not analysis.l2tl_known_answer(trace, names)["passed"]


def test_policy_signal_gives_the_alignment_estimators_t_per_class():
  rng = np.random.default_rng(0)
  a = rng.normal(size=(50, 3)) + np.array([1.0, 0.0, -1.0])
  sums = {"count": 50.0, "reward": 0.0, "reward_sq": 0.0, "advantage": 0.0,
          "advantage_sq": 0.0, "lambda": np.zeros(3), "lambda_sq": np.zeros(3),
          "lambda_advantage": np.zeros(3), "class_signal": a.sum(0),
          "class_signal_sq": (a ** 2).sum(0)}
  signal = analysis.policy_signal(sums)
  expected = a.mean(0) / a.std(0, ddof=1) * math.sqrt(50)
  np.testing.assert_allclose(signal["alignment_t"], expected, rtol=1e-6)
  assert signal["significant_classes"] == 2
  trace = {"0": {"expected_lambda": [0.5] * 3}, "1": signal}
  np.testing.assert_allclose(analysis.pooled_signal(trace), expected, rtol=1e-6)


def test_pooled_signal_is_stouffers_z_over_the_epochs():
  trace = {"0": {"expected_lambda": [0.5, 0.5]},
           "1": {"lambda_advantage_t": [1.0, -1.0]},
           "2": {"lambda_advantage_t": [2.0, 0.0]},
           "3": {"lambda_advantage_t": [None, None]}}  # uniform: left out
  np.testing.assert_allclose(analysis.pooled_signal(trace),
                             [3 / math.sqrt(2), -1 / math.sqrt(2)])
  assert analysis.pooled_signal({"0": {"expected_lambda": [0.5]}}).size == 0


def test_scaled_t_weighs_every_epoch_alike_and_counts_signs():
  # Epoch 1: mean 10, std 10 (RMS sqrt(200)); epoch 2: mean -0.1, std 0.1.
  trace = {"1": {"hypergrad/a": 10.0, "hypergrad_snr/a": 1.0, "steps": 4},
           "2": {"hypergrad/a": -0.1, "hypergrad_snr/a": 1.0, "steps": 4}}
  result = analysis.scaled_hypergradient_t(trace)["a"]
  # Scaled means +1/sqrt(2) and -1/sqrt(2): they cancel, though the raw
  # pooled t (mean 4.95, variance 75.5, n = 8) is epoch 1 alone.
  assert result["t"] == pytest.approx(0.0, abs=1e-9)
  assert analysis.hypergradient_t(trace)["a"] == pytest.approx(1.611, abs=1e-3)
  assert (result["positive"], result["epochs"]) == (1, 2)


def test_sign_test_by_hand():
  assert analysis.sign_test_p(5, 10) == 1.0
  assert analysis.sign_test_p(10, 10) == pytest.approx(2 / 1024)
  assert analysis.sign_test_p(19, 27) == pytest.approx(0.0522, abs=1e-3)


def test_decoy_gap_t_over_epochs():
  trace = {str(e): {"hypergrad/d": 1.0 + 0.1 * e, "hypergrad_snr/d": 1.0,
                    "hypergrad/r": -1.0, "hypergrad_snr/r": 1.0} for e in range(1, 6)}
  result = analysis.decoy_gap_t(trace, ["d"], ["r"])
  # Every epoch: +1/sqrt(2) - (-1/sqrt(2)) = sqrt(2), no spread.
  assert result["gap"] == pytest.approx(math.sqrt(2))
  assert result["t"] > 1e6 and result["positive"] == 5
  assert result["sign_p"] == pytest.approx(2 / 32)


def test_noise_mass_trend_by_hand():
  # Two channels, the second noise: mass 0.5 -> 0.45 -> 0.40 -> 0.36.
  trace = {str(e): {"channel_weights/p": [1 - m, m]}
           for e, m in ((1, 0.45), (2, 0.40), (3, 0.36))}
  result = analysis.noise_mass_trend(trace, ["p"])
  assert result["masses"] == pytest.approx([0.5, 0.45, 0.40, 0.36])
  changes = np.array([-0.05, -0.05, -0.04])
  assert result["t"] == pytest.approx(
      changes.mean() / (changes.std(ddof=1) / math.sqrt(3)))
  assert (result["negative"], result["epochs"]) == (3, 3)
