"""What the meta-networks learned, measured on data: lambda, channel weights, saliency."""
import keras
import numpy as np
import tensorflow as tf

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
  entropy of its channel weights and log C (the entropy of uniform weights).

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
                       "log_channels": float(np.log(weights[p].shape[-1]))}
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
      entry["init"] = {k: start[label][k] for k in LEARNED}
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
    sources, pooled = model.source_features(images, stop_gradient=False)
    channel_weights, pair_weights = model.meta_networks(pooled)
    channel_weights = [tf.stop_gradient(w) for w in channel_weights]
    if uniform:
      channel_weights = [tf.ones_like(w) / w.shape[-1] for w in channel_weights]
    _, *regressed = model.student(images, training=False)
    loss, _ = losses.weighted_feature_matching(
        regressed, sources, channel_weights, tf.stop_gradient(pair_weights),
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
