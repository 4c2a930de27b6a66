"""Figures of what was transferred (matplotlib, no display needed).

Each function returns a Figure; `save` writes it as a PNG. They take plain
numbers (lambda statistics, histories, weights, saliency maps), not models.
"""
import io
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from l2t_tf import analysis, storage


def save(figure, path: str) -> str:
  """Writes `figure` as a PNG at `path` (any filesystem, see storage.py)."""
  png = io.BytesIO()
  figure.savefig(png, format="png", dpi=110, bbox_inches="tight")
  plt.close(figure)
  storage.write(path, png.getvalue())
  return path


def _points(stats: dict) -> tuple[list, list]:
  sources = sorted({(v["source_network"], v["source_index"], v["source"])
                    for v in stats.values()})
  targets = sorted({(v["target_index"], v["target"]) for v in stats.values()})
  return sources, targets


def matching_graph(stats: dict, threshold: float = 0.1):
  """Fig. 3(d): a line per pair, width proportional to its mean lambda.

  `stats` is `analysis.lambda_statistics` (or lambdas.json); pairs whose mean
  lambda is under `threshold` are left out. Where `stats` holds the start
  (`analysis.with_start`), each label also gives the change since step 0 and
  the line is green (grew) or red (shrank), so that what was learned shows
  apart from where it began.
  """
  sources, targets = _points(stats)
  source_y = {s[:2]: 1 - i / max(1, len(sources) - 1) for i, s in enumerate(sources)}
  target_y = {t[0]: 1 - i / max(1, len(targets) - 1) for i, t in enumerate(targets)}
  figure, ax = plt.subplots(figsize=(6, 0.6 * max(len(sources), len(targets)) + 2))
  largest = max([v["mean"] for v in stats.values()] + [1e-9])
  for label, v in sorted(stats.items(), key=lambda item: item[1]["mean"]):
    if v["mean"] < threshold:
      continue
    y0 = source_y[(v["source_network"], v["source_index"])]
    y1 = target_y[v["target_index"]]
    change = v.get("change", {}).get("mean")
    color = ("tab:blue" if change is None or abs(change) < 0.01
             else "tab:green" if change > 0 else "tab:red")
    ax.plot([0, 1], [y0, y1], color=color, alpha=0.7, solid_capstyle="round",
            linewidth=8 * v["mean"] / largest, gid=label)
    # Labels sit at a point along the line that depends on the target, so the
    # labels of pairs that share a source do not overlap.
    t = 0.2 + 0.6 * (1 - y1)
    text = f"{v['mean']:.2f}" + ("" if change is None else f" ({change:+.2f})")
    ax.text(t, y0 + t * (y1 - y0), text,
            fontsize=7, ha="center", va="center", gid=label,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                  "alpha": 0.8})
  for (network, index, name) in sources:
    ax.text(-0.03, source_y[(network, index)], f"{name} (s{network + 1}.{index})",
            ha="right", va="center", fontsize=8)
  for index, name in targets:
    ax.text(1.03, target_y[index], f"({index}) {name}", ha="left", va="center",
            fontsize=8)
  ax.scatter([0] * len(sources), [source_y[s[:2]] for s in sources], color="k", zorder=3)
  ax.scatter([1] * len(targets), [target_y[t[0]] for t in targets], color="k", zorder=3)
  ax.set_xlim(-0.9, 1.9)
  ax.set_ylim(-0.15, 1.15)
  ax.axis("off")
  since = ("; (change since step 0): green grew, red shrank"
           if any("change" in v for v in stats.values()) else "")
  ax.set_title(f"Matching: mean lambda on validation (pairs < {threshold} "
               f"omitted){since}\nsource (left) -> target (right)", fontsize=9)
  return figure


def lambda_over_training(trace: dict, stats: dict):
  """Fig. 4: per source point, mean +- std of lambda against epoch, per target point.

  `trace`: `meta_trace.json` (per epoch, `train_lambda/<pair>` and
  `train_lambda_std/<pair>`: lambda over the epoch's training batches).
  Where `stats` holds the start (`analysis.with_start`), each curve begins
  with a hollow marker at epoch 0: lambda before the first step.
  """
  sources, _ = _points(stats)
  figure, axes = plt.subplots(1, len(sources), figsize=(3.2 * len(sources), 2.8),
                              squeeze=False, sharey=True)
  for ax, (network, index, name) in zip(axes[0], sources):
    for label, v in sorted(stats.items(), key=lambda item: item[1]["target_index"]):
      if (v["source_network"], v["source_index"]) != (network, index):
        continue
      mean = _series(trace, f"train_lambda/{label}")
      std = _series(trace, f"train_lambda_std/{label}")
      std = std if std.size == mean.size else np.zeros_like(mean)
      epochs = np.arange(1, len(mean) + 1)
      line, = ax.plot(epochs, mean, label=f"target {v['target_index']}")
      ax.fill_between(epochs, mean - std, mean + std, color=line.get_color(),
                      alpha=0.2)
      if "init" in v:
        ax.plot([0, 1], [v["init"]["mean"], mean[0]], color=line.get_color(),
                linestyle=":")
        ax.plot([0], [v["init"]["mean"]], marker="o", fillstyle="none",
                color=line.get_color(), gid=f"start_{label}")
    several = len({s[0] for s in sources}) > 1
    ax.set_title(f"source {f's{network + 1} ' if several else ''}{name}",
                 fontsize=9)
    ax.set_xlabel("epoch")
  axes[0][0].set_ylabel("lambda (training batches;\no = validation, step 0)")
  axes[0][-1].legend(fontsize=7)
  return figure


def _series(trace: dict, name: str) -> np.ndarray:
  """The values of `name` in epoch order from a {epoch: {name: value}} trace."""
  return np.asarray([trace[e][name] for e in sorted(trace, key=int)
                     if name in trace[e]])


def channel_weights(weights: list[np.ndarray], labels: list[str]):
  """Per pair, the mean channel weights on validation, sorted, with their entropy."""
  columns = min(5, len(labels))
  rows = -(-len(labels) // columns)
  figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.1 * rows),
                              squeeze=False)
  for ax in axes.ravel()[len(labels):]:
    ax.axis("off")
  for ax, w, label in zip(axes.ravel(), weights, labels):
    channels = w.shape[-1]
    ax.bar(np.arange(channels), np.sort(w.mean(axis=0))[::-1], width=1.0,
           color="tab:orange")
    ax.axhline(1 / channels, color="k", linewidth=0.8, linestyle="--")
    ax.set_title(f"pair {label}: H = {analysis.entropy(w).mean():.3f} "
                 f"(uniform {np.log(channels):.3f})", fontsize=8)
    ax.tick_params(labelsize=6)
  figure.suptitle("Channel weights w (mean over validation, sorted; dashed: "
                  "uniform 1/C)", fontsize=9)
  figure.tight_layout()
  return figure


def _show(image: np.ndarray) -> np.ndarray:
  image = image - image.min()
  image = image / max(image.max(), 1e-12)
  return image[..., 0] if image.shape[-1] == 1 else image


def saliency_maps(images: np.ndarray, learned: np.ndarray, uniform: np.ndarray):
  """Fig. 6: saliency of L_wfm with uniform vs learned w, and where they differ."""
  columns = ("image", "uniform w", "learned w", "more with learned",
             "less with learned")
  figure, axes = plt.subplots(len(images), len(columns),
                              figsize=(2 * len(columns), 2 * len(images)),
                              squeeze=False)
  for row, (image, a, b) in enumerate(zip(images, learned, uniform)):
    a, b = a / max(a.sum(), 1e-12), b / max(b.sum(), 1e-12)
    difference = a - b
    panels = (_show(image), b, a, np.maximum(difference, 0),
              np.maximum(-difference, 0))
    for ax, panel, title in zip(axes[row], panels, columns):
      ax.imshow(panel, cmap=None if panel.ndim == 3 else
                ("gray" if title == "image" else "inferno"))
      ax.set_xticks([])
      ax.set_yticks([])
      if row == 0:
        ax.set_title(title, fontsize=9)
  figure.suptitle("Saliency max_c |dL_wfm/dx| (each map normalised to sum 1)",
                  fontsize=9)
  return figure


def source_class_weights(ranking: dict, top: int = 30):
  """L2TL: the source classes by the policy's expected lambda (bars), best first.

  `ranking` is `analysis.source_class_ranking` (or source_class_weights.json);
  with many classes only the `top` ones are shown.
  """
  classes = ranking["classes"][:top]
  figure, ax = plt.subplots(figsize=(7, 0.3 * len(classes) + 1.2))
  ax.barh([c["class"] for c in classes][::-1],
          [c["expected_weight"] for c in classes][::-1], color="tab:blue")
  ax.axvline(0.5, color="grey", linestyle="--", label="untrained (uniform) policy")
  ax.set_xlim(0, 1)
  ax.set_xlabel("expected source-class weight E[lambda(y)]")
  ax.legend(loc="lower right", fontsize=8)
  ax.set_title(f"L2TL source classes (expected alpha_s "
               f"{ranking['expected_alpha']:.3f})")
  return figure


def trace_steps(trace: dict) -> tuple[list, np.ndarray]:
  """(epoch keys in order, training step at the end of each) of a per-epoch
  trace whose entry "0" is the start (step 0) and whose others hold `steps`."""
  epochs = sorted(trace, key=int)
  return epochs, np.cumsum([trace[e].get("steps", 0) if e != "0" else 0
                            for e in epochs])


def policy_over_training(trace: dict, class_names, shown: int = 20):
  """L2TL: E[lambda(y)] of each source class against the training step.

  `trace` is `policy_trace.json`; its entry "0" (the start, before any policy
  step) is drawn at step 0 with hollow markers. Classes named "group:name"
  (the known-answer source) are coloured by group. With more than `shown`
  classes, only the highest and lowest halves at the end are drawn.
  """
  epochs, steps = trace_steps(trace)
  values = np.asarray([trace[e]["expected_lambda"] for e in epochs])  # [epochs, classes]
  order = np.argsort(-values[-1], kind="stable")
  classes = list(order) if len(order) <= shown else (
      list(order[:shown // 2]) + list(order[-shown // 2:]))
  groups = sorted({str(class_names[c]).split(":")[0] for c in classes
                   if ":" in str(class_names[c])})
  colours = dict(zip(groups, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
  figure, ax = plt.subplots(figsize=(7, 4))
  labelled = set()
  for c in classes:
    name = str(class_names[c])
    group = name.split(":")[0] if ":" in name else None
    label = name if group is None else (None if group in labelled else group)
    labelled.add(group)
    ax.plot(steps, values[:, c], color=colours.get(group), linewidth=1, label=label)
    ax.plot([0], [values[0, c]], marker="o", fillstyle="none", color=colours.get(group))
  ax.set_xlabel("training step (o: the start, before any policy step)")
  ax.set_ylabel("E[lambda(y)]")
  ax.set_ylim(0, 1)
  ax.legend(fontsize=7, ncol=2)
  ax.set_title("L2TL: expected source-class weight over training")
  return figure


def noise_mass(what: dict):
  """Per pair of a `noisy:` source, w's mass on the noise channels at the start
  and at the end (`analysis.known_answer_summary(...)["what"]`)."""
  pairs = what["pairs"]
  x = np.arange(len(pairs))
  figure, ax = plt.subplots(figsize=(max(4.0, 0.4 * len(pairs) + 1.5), 2.8))
  ax.bar(x - 0.2, [p["start"] for p in pairs], 0.4, label="start", color="0.7")
  ax.bar(x + 0.2, [p["end"] for p in pairs], 0.4, label="end", color="C0",
         gid="end")
  ax.axhline(0.5, color="k", linestyle="--", linewidth=0.8)
  ax.axhline(analysis.NOISE_MASS_MAX, color="C3", linestyle=":", linewidth=1.0,
             label=f"known answer (<= {analysis.NOISE_MASS_MAX})")
  ax.set_xticks(x, [p["pair"] for p in pairs], rotation=90, fontsize=7)
  ax.set_ylabel("w on noise channels")
  ax.set_ylim(0, 1)
  ax.legend(fontsize=7)
  figure.tight_layout()
  return figure


def output_dir(workdir: str) -> str:
  path = os.path.join(workdir, "plots")
  storage.makedirs(path)
  return path
