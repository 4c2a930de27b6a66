"""What the meta-networks learned, measured on data: lambda, channel weights, saliency."""
import math

import keras
import numpy as np
import tensorflow as tf

from l2t_tf.models import known_answer
from l2t_tf.transfer import losses


def meta_outputs(model, dataset) -> tuple[np.ndarray, list[np.ndarray]]:
  """(lambda [N, pairs], per pair the channel weights w [N, C]) over `dataset`."""
  lambdas, weights = [], []
  for images, _ in dataset:
    _, pooled = model.source_features(images)
    w, lam = model.meta_networks(pooled)
    lambdas.append(np.asarray(lam))
    weights.append([np.asarray(x) for x in w])
  return (np.concatenate(lambdas),
          [np.concatenate([b[p] for b in weights]) for p in range(len(model.pairs))])


def entropy(weights: np.ndarray) -> np.ndarray:
  """Shannon entropy (nats) of each row of channel weights; log(C) is uniform."""
  return -np.sum(weights * np.log(np.clip(weights, 1e-12, None)), axis=-1)


def lambda_statistics(model, dataset, outputs=None) -> dict:
  """Per pair label: its points; mean and std of lambda over `dataset`; the mean
  entropy of its channel weights and log C (the entropy of uniform weights);
  the mean weight of each channel (`channel_weights`, uniform: 1/C each).

  `outputs`: `meta_outputs(model, dataset)` when the caller has it already.
  """
  lambdas, weights = outputs or meta_outputs(model, dataset)
  return {pair.label: {"source": pair.source.name, "target": pair.target.name,
                       "source_network": pair.source.network,
                       "source_index": pair.source.index,
                       "target_index": pair.target.index,
                       "mean": float(lambdas[:, p].mean()),
                       "std": float(lambdas[:, p].std()),
                       "entropy": float(entropy(weights[p]).mean()),
                       "log_channels": float(np.log(weights[p].shape[-1])),
                       "channel_weights": [round(float(x), 6)
                                           for x in weights[p].mean(axis=0)]}
          for p, pair in enumerate(model.pairs)}


LEARNED = ("mean", "std", "entropy")


def with_start(final: dict, start: dict | None) -> dict:
  """`final` statistics with, per pair, `init` (at step 0), `final` and `change`.

  A value is learned only as far as it moved: `change` is final - init of the
  mean lambda and of the channel-weight entropy.
  """
  merged = {}
  for label, stats in final.items():
    entry = dict(stats)
    entry["final"] = {k: stats[k] for k in LEARNED}
    if start and label in start:
      entry["init"] = {k: start[label][k] for k in (*LEARNED, "channel_weights")
                       if k in start[label]}
      entry["change"] = {"mean": stats["mean"] - start[label]["mean"],
                         "entropy": stats["entropy"] - start[label]["entropy"]}
    merged[label] = entry
  return merged


def saliency(model, images, uniform: bool) -> np.ndarray:
  """max over input channels of |dL_wfm/dx| per pixel, [B, H, W].

  L_wfm with the learned channel weights, or with uniform ones (1/C) when
  `uniform`; lambda is the learned one in both, so the two maps differ only in
  *what* is matched. The weights themselves are held fixed (no gradient through
  the meta-networks): the saliency is that of the matching, not of phi.
  """
  images = tf.convert_to_tensor(images)
  with tf.GradientTape() as tape:
    tape.watch(images)
    source_maps, pooled = model.source_features(images, stop_gradient=False)
    channel_weights, pair_weights = model.meta_networks(pooled)
    channel_weights = [tf.stop_gradient(w) for w in channel_weights]
    if uniform:
      channel_weights = [tf.ones_like(w) / w.shape[-1] for w in channel_weights]
    _, *regressed = model.with_regressors(images, training=False)
    loss, _ = losses.weighted_feature_matching(
        regressed, source_maps, channel_weights, tf.stop_gradient(pair_weights),
        model.beta)
  gradient = tape.gradient(loss, images)
  return keras.ops.convert_to_numpy(tf.reduce_max(tf.abs(gradient), axis=-1))


def source_class_ranking(class_policy, class_names) -> dict:
  """What L2TL's policy learned (the paper's Table 4): source classes by E[lambda].

  Also the most likely lambda of each class and the expected alpha_s.
  """
  expected = np.asarray(class_policy.expected_class_weights())
  probabilities = np.asarray(keras.ops.softmax(class_policy.class_logits, axis=-1))
  values = np.asarray(class_policy.class_values())
  order = np.argsort(-expected, kind="stable")
  return {
      "expected_alpha": float(class_policy.expected_alpha()),
      "classes": [{"rank": rank + 1, "class": str(class_names[c]), "label": int(c),
                   "expected_weight": float(expected[c]),
                   "most_likely_weight": float(values[probabilities[c].argmax()])}
                  for rank, c in enumerate(order)],
  }


def policy_signal(sums: dict) -> dict:
  """The reward's noise and REINFORCE's signal from a trainer's `signal` sums.

  Per source class: the Pearson correlation over the policy steps of the
  lambda applied to that class with the advantage, and its t statistic
  (r sqrt(n - 2) / sqrt(1 - r^2); |t| > 2 is unlikely by chance). None where
  lambda did not vary (uniform weights) or there are fewer than 3 steps.
  """
  n = float(sums["count"])
  if n < 1:
    return {"steps": 0}
  def mean_std(total, squares):
    mean = np.asarray(total) / n
    return mean, np.sqrt(np.maximum(np.asarray(squares) / n - mean ** 2, 0.0))
  reward, reward_std = mean_std(sums["reward"], sums["reward_sq"])
  advantage, advantage_std = mean_std(sums["advantage"], sums["advantage_sq"])
  lam, lam_std = mean_std(sums["lambda"], sums["lambda_sq"])
  covariance = np.asarray(sums["lambda_advantage"]) / n - lam * advantage
  correlations, t_values = [], []
  for c in range(lam.size):
    if n < 3 or lam_std[c] < 1e-9 or advantage_std < 1e-9:
      correlations.append(None)
      t_values.append(None)
      continue
    r = float(np.clip(covariance[c] / (lam_std[c] * advantage_std), -0.999999, 0.999999))
    correlations.append(r)
    t_values.append(r * math.sqrt(n - 2) / math.sqrt(1 - r * r))
  result = {"steps": int(n), "reward_mean": float(reward),
            "reward_std": float(reward_std), "advantage_mean": float(advantage),
            "advantage_std": float(advantage_std),
            "lambda_advantage_correlation": correlations, "lambda_advantage_t": t_values}
  signal_sq = np.asarray(sums.get("class_signal_sq", 0.0))
  if np.any(signal_sq > 0):  # the alignment estimator: the t of each class's mean
    mean, std = mean_std(sums["class_signal"], signal_sq)
    t_values = [None if n < 3 else float(m / max(s, 1e-12) * math.sqrt(n - 1))
                for m, s in zip(mean, std)]
    result.update(alignment_mean=[float(m) for m in mean], alignment_t=t_values)
  result["significant_classes"] = int(sum(abs(t) > 2 for t in t_values
                                          if t is not None))
  return result


# L2TL's known answer (issues #14, #26): of the top-10 source classes by
# E[lambda], how many must be the related (helpful) group, and how far the
# groups' pooled signal must part (a z, like the |t| >= 3 of L2T-ww's).
L2TL_TOP = 10
L2TL_RELATED_MIN = 6
L2TL_Z_GAP_MIN = 3.0


def l2tl_known_answer(trace: dict, class_names, related: str = "digit:") -> dict:
  """Verdict from a `policy_trace.json`: are the related classes ranked first?

  Mean E[lambda] of the related and the other classes at the start and the
  end, the related count among the final top L2TL_TOP, the epochs'
  significant-class counts, the groups' mean pooled z and their gap as a z
  ((mean_r - mean_o) / sqrt(1/n_r + 1/n_o), N(0, 1) when no class moves the
  reward). It passes when the policy learned (E[lambda] moved), at least
  L2TL_RELATED_MIN of the top are related, and the z gap is at least
  L2TL_Z_GAP_MIN: the ranking and the signal behind it agree.
  """
  epochs = sorted(trace, key=int)
  start = np.asarray(trace[epochs[0]]["expected_lambda"])
  end = np.asarray(trace[epochs[-1]]["expected_lambda"])
  is_related = np.asarray([str(n).startswith(related) for n in class_names])
  top = np.argsort(-end, kind="stable")[:L2TL_TOP]
  count = int(is_related[top].sum())
  significant = [trace[e].get("significant_classes") for e in epochs[1:]]
  pooled = pooled_signal(trace)
  gap = None
  if pooled.size:
    gap = float((pooled[is_related].mean() - pooled[~is_related].mean())
                / math.sqrt(1 / is_related.sum() + 1 / (~is_related).sum()))
  learned = bool(np.abs(end - start).max() > 1e-6)
  return {"related_start": float(start[is_related].mean()),
          "related_end": float(end[is_related].mean()),
          "other_start": float(start[~is_related].mean()),
          "other_end": float(end[~is_related].mean()),
          "related_in_top": count, "top": L2TL_TOP,
          "significant_classes_per_epoch": [s for s in significant if s is not None],
          "related_z": (float(pooled[is_related].mean()) if pooled.size else None),
          "other_z": (float(pooled[~is_related].mean()) if pooled.size else None),
          "z_gap": gap, "learned": learned,
          "passed": (learned and count >= L2TL_RELATED_MIN and gap is not None
                     and gap >= L2TL_Z_GAP_MIN)}


def pooled_signal(trace: dict) -> np.ndarray:
  """Per source class, the epochs' t statistics (lambda against the advantage,
  or the alignment estimator's mean a_k) pooled into one z (Stouffer: sum /
  sqrt(epochs)); about N(0, 1) when the class does not move the reward.
  Empty when lambda never varied (uniform weights)."""
  rows = [trace[e].get("alignment_t") or trace[e]["lambda_advantage_t"]
          for e in sorted(trace, key=int)
          if trace[e].get("alignment_t") or trace[e].get("lambda_advantage_t")]
  rows = [row for row in rows if None not in row]
  if not rows:
    return np.zeros(0)
  return np.asarray(rows, float).sum(0) / math.sqrt(len(rows))


# Known-answer verdicts (issue #13): how far below the real source a decoy's
# pairs must end, and how little of w may stay on a noisy source's noise half.
DECOY_MARGIN = 0.3
NOISE_MASS_MAX = 0.4


def known_answer_summary(stats: dict, source_paths) -> dict:
  """Verdicts of the known-answer runs, from `lambdas.json` (with `init`).

  where (a `decoy:` or `harmful:` source beside a real one; both "decoy"
  below): mean lambda start -> end of
  each source's pairs; passes when the decoy's end at least DECOY_MARGIN
  below the real source's and below their start.
  what (a `noisy:` source): per pair, w's mass on the noise half of the
  channels (0.5 when uniform) at start and end; passes when the mean end
  mass is at most NOISE_MASS_MAX.
  """
  paths = list(source_paths)
  summary = {}
  by_source = {}
  for entry in stats.values():
    k = entry["source_network"]
    by_source.setdefault(k, []).append(entry)
  means = {k: {"start": float(np.mean([e["init"]["mean"] for e in es if "init" in e]
                                      or [np.nan])),
               "end": float(np.mean([e["mean"] for e in es])),
               "dead": sum(e["mean"] == 0.0 for e in es), "pairs": len(es)}
           for k, es in by_source.items()}
  decoys = [k for k, p in enumerate(paths) if p.startswith(known_answer.WEIGHED_DOWN)]
  reals = [k for k, p in enumerate(paths)
           if not p.startswith((*known_answer.WEIGHED_DOWN, known_answer.NOISY))]
  if decoys and reals:
    real = float(np.mean([means[k]["end"] for k in reals]))
    decoy = float(np.mean([means[k]["end"] for k in decoys]))
    start = float(np.mean([means[k]["start"] for k in decoys]))
    summary["where"] = {"real": [means[k] for k in reals],
                        "decoy": [means[k] for k in decoys],
                        "gap": real - decoy,
                        "passed": bool(real - decoy >= DECOY_MARGIN and decoy < start)}
  noisy = [k for k, p in enumerate(paths) if p.startswith(known_answer.NOISY)]
  if noisy:
    masses = []
    for label, entry in stats.items():
      if entry["source_network"] in noisy:
        masses.append({"pair": label, "end": _noise_mass(entry["channel_weights"]),
                       "start": _noise_mass(entry.get("init", {}).get(
                           "channel_weights", []))})
    end = float(np.mean([m["end"] for m in masses]))
    summary["what"] = {"pairs": masses, "mean_end": end,
                       "mean_start": float(np.mean([m["start"] for m in masses])),
                       "passed": bool(end <= NOISE_MASS_MAX)}
  return summary


def _noise_mass(channel_weights) -> float:
  """The share of the weight on the second half of the channels (the noise)."""
  weights = np.asarray(channel_weights, np.float64)
  if not weights.size:
    return float("nan")
  return float(weights[weights.size // 2:].sum() / weights.sum())


def mean_meta_gradient(model, dataset, batches: int = 30) -> dict:
  """{phi variable name: its meta-gradient averaged over `batches` of `dataset`}.

  What the meta-objective asks of phi at the current theta, free of the
  optimizer: averaging over batches keeps the consistent part (the signal).
  Uses the target optimizer's current learning rate for the look-ahead.
  """
  phi = model.meta_networks.trainable_variables
  sums = [np.zeros(v.shape) for v in phi]
  learning_rate = model.optimizer.learning_rate
  count = 0
  for images, labels in dataset.take(batches):
    source_maps, pooled = model.source_features(images)
    grads = model.meta_gradient(images, labels, source_maps, pooled, learning_rate)
    for total, grad in zip(sums, grads):
      total += np.asarray(grad)
    count += 1
  return {v.name: total / max(1, count) for v, total in zip(phi, sums)}


def hypergradient_t(trace: dict, steps_per_epoch: int = 1) -> dict:
  """Per pair, the t statistic of the "where" meta-gradient over the whole run.

  From `meta_trace.json`: each epoch's mean and |mean| / std over its meta
  steps (`hypergrad/`, `hypergrad_snr/`) and its step count. t = mean /
  (std / sqrt(steps)) over all the run's meta steps: |t| > 2 means the
  meta-objective asked for a consistent direction (t > 0: lambda down), and
  otherwise that phi's change is noise, whatever it looks like.
  `steps_per_epoch`: for traces that do not record their step counts.
  """
  labels = {k.split("/", 1)[1] for entry in trace.values() for k in entry
            if k.startswith("hypergrad/")}
  result = {}
  for label in sorted(labels):
    means, squares, counts = [], [], []
    for entry in trace.values():
      mean, snr = entry.get(f"hypergrad/{label}"), entry.get(f"hypergrad_snr/{label}")
      if mean is None or (mean == 0 and snr == 0):  # no meta step that epoch
        continue
      std = abs(mean) / snr if snr else 0.0
      means.append(mean)
      squares.append(std ** 2 + mean ** 2)
      counts.append(entry.get("steps") or steps_per_epoch)
    if not counts:
      continue
    n = float(sum(counts))
    mean = sum(m * c for m, c in zip(means, counts)) / n
    variance = max(sum(q * c for q, c in zip(squares, counts)) / n - mean ** 2, 1e-30)
    result[label] = float(mean / np.sqrt(variance / n))
  return result


SIGNIFICANT_T = 3.0  # |t| a known answer needs besides its threshold
# The strength known answer: the mean lambda must fall by this much (from 1).
STRENGTH_FALL = 0.1


def _scaled_epochs(trace: dict, label: str) -> dict:
  """{epoch: (mean / RMS, steps)} of a pair's "where" meta-gradient, for the
  epochs with meta steps (RMS over the epoch's steps: sqrt(mean^2 + std^2))."""
  scaled = {}
  for key, entry in trace.items():
    mean, snr = entry.get(f"hypergrad/{label}"), entry.get(f"hypergrad_snr/{label}")
    if mean is None or (mean == 0 and snr == 0):
      continue
    std = abs(mean) / snr if snr else 0.0
    scaled[key] = (mean / (math.sqrt(mean ** 2 + std ** 2) or 1.0),
                   entry.get("steps") or 1)
  return scaled


def sign_test_p(positive: int, total: int) -> float:
  """Two-sided binomial p of `positive` of `total` signs under a fair coin."""
  if total == 0:
    return 1.0
  k = min(positive, total - positive)
  tail = sum(math.comb(total, i) for i in range(k + 1)) / 2 ** total
  return min(1.0, 2 * tail)


def scaled_hypergradient_t(trace: dict) -> dict:
  """Per pair, the run's t of its "where" meta-gradient with every step divided
  by its epoch's RMS, and a sign test over epochs.

  The raw meta-gradient shrinks 10-100x over a run, so an unscaled pooled t
  (`hypergradient_t`) is the first epochs' verdict. Scaled, each step has
  second moment 1, so t = m sqrt(n) / sqrt(1 - m^2) with m the steps' mean of
  x / RMS_epoch. Returns {pair: {t, positive, epochs, sign_p}}.
  """
  labels = {k.split("/", 1)[1] for entry in trace.values() for k in entry
            if k.startswith("hypergrad/")}
  result = {}
  for label in sorted(labels):
    epochs = list(_scaled_epochs(trace, label).values())
    if not epochs:
      continue
    n = float(sum(c for _, c in epochs))
    m = sum(c * x for x, c in epochs) / n
    positive = sum(x > 0 for x, _ in epochs)
    result[label] = {"t": float(m * math.sqrt(n) / math.sqrt(max(1 - m * m, 1e-12))),
                     "positive": positive, "epochs": len(epochs),
                     "sign_p": sign_test_p(positive, len(epochs))}
  return result


def decoy_gap_t(trace: dict, decoy_labels, real_labels) -> dict:
  """The decoy-minus-real gap of the RMS-scaled "where" meta-gradient per epoch
  (> 0: the decoy's lambda asked down more), its t over epochs and a sign test.
  """
  decoy = [_scaled_epochs(trace, label) for label in decoy_labels]
  real = [_scaled_epochs(trace, label) for label in real_labels]
  gaps = []
  for key in trace:
    a = [s[key][0] for s in decoy if key in s]
    b = [s[key][0] for s in real if key in s]
    if a and b:
      gaps.append(np.mean(a) - np.mean(b))
  gaps = np.array(gaps)
  if len(gaps) < 2:
    return {"gap": float("nan"), "t": float("nan"), "positive": 0,
            "epochs": len(gaps), "sign_p": 1.0}
  t = gaps.mean() / (gaps.std(ddof=1) / math.sqrt(len(gaps)) + 1e-30)
  positive = int((gaps > 0).sum())
  return {"gap": float(gaps.mean()), "t": float(t), "positive": positive,
          "epochs": len(gaps), "sign_p": sign_test_p(positive, len(gaps))}


def noise_mass_trend(trace: dict, noisy_labels, start: float = 0.5) -> dict:
  """Per epoch, w's mean mass on the noise channels of the noisy source's pairs
  (from meta_trace.json's channel weights); the t over epochs of its changes
  (< 0: the noise asked down) and a sign test of the changes."""
  masses = [start]
  for key in sorted(trace, key=int):
    values = [_noise_mass(trace[key][f"channel_weights/{label}"])
              for label in noisy_labels if f"channel_weights/{label}" in trace[key]]
    if values:
      masses.append(float(np.mean(values)))
  changes = np.diff(masses)
  if len(changes) < 2:
    return {"masses": masses, "t": float("nan"), "negative": 0,
            "epochs": len(changes), "sign_p": 1.0}
  t = changes.mean() / (changes.std(ddof=1) / math.sqrt(len(changes)) + 1e-30)
  negative = int((changes < 0).sum())
  return {"masses": masses, "t": float(t), "negative": negative,
          "epochs": len(changes), "sign_p": sign_test_p(negative, len(changes))}
