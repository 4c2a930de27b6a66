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


def matching(stats: dict, significance: dict | None = None):
  """Fig. 3(d) as a heatmap: source points (rows) x target points (columns),
  the colour each pair's mean lambda on validation.

  Each cell also gives lambda's change since step 0 (where `stats` holds the
  start, `analysis.with_start`) and, from `significance` ({pair: t}, the
  scaled hypergradient t), how consistently the meta-objective asked for
  that change: |t| >= 3 is marked *, so a change of noise reads as noise.
  """
  significance = significance or {}
  sources, targets = _points(stats)
  rows = {s[:2]: i for i, s in enumerate(sources)}
  columns = {t[0]: i for i, t in enumerate(targets)}
  grid = np.full((len(sources), len(targets)), np.nan)
  cells = {}  # (row, column): (pair label, text)
  for label, v in stats.items():
    r, c = rows[(v["source_network"], v["source_index"])], columns[v["target_index"]]
    grid[r, c] = v["mean"]
    change = v.get("change", {}).get("mean")
    t = significance.get(label)
    cells[(r, c)] = (label, f"{v['mean']:.2f}"
                     + ("" if change is None else f"\n{change:+.2f}")
                     + ("" if t is None else f"\nt {t:+.1f}{'*' if abs(t) >= 3 else ''}"))
  figure, ax = plt.subplots(figsize=(1.2 * len(targets) + 2.5,
                                     0.9 * len(sources) + 1.8))
  image = ax.imshow(grid, cmap="viridis", vmin=0.0,
                    vmax=max(1.0, float(np.nanmax(grid))), aspect="auto")
  for (r, c), (label, text) in cells.items():
    ax.text(c, r, text, ha="center", va="center", fontsize=7, gid=label,
            color="white" if grid[r, c] < 0.6 * image.get_clim()[1] else "black")
  several = len({s[0] for s in sources}) > 1
  ax.set_yticks(range(len(sources)), [
      f"{f's{n + 1} ' if several else ''}{i} {name}" for n, i, name in sources],
                fontsize=7)
  ax.set_xticks(range(len(targets)), [f"{i} {name}" for i, name in targets],
                fontsize=7, rotation=30, ha="right")
  ax.set_ylabel("source point")
  ax.set_xlabel("target point")
  figure.colorbar(image, ax=ax, label="mean lambda (validation)")
  legend = ("cell: lambda" + ("; change since step 0" if any(
      "change" in v for v in stats.values()) else "")
            + ("; hypergradient t (* |t| >= 3)" if significance else ""))
  ax.set_title(f"Where to transfer: lambda per pair\n{legend}", fontsize=9)
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


def channel_weights(stats: dict):
  """What to transfer, in one chart: per pair, how far the channel weights are
  from uniform (log C - H, 0 = uniform) now and at step 0 (hollow marker)."""
  labels = sorted(stats, key=lambda k: (stats[k]["source_network"],
                                        stats[k]["source_index"],
                                        stats[k]["target_index"]))
  gap = [stats[k]["log_channels"] - stats[k]["entropy"] for k in labels]
  figure, ax = plt.subplots(figsize=(max(5.0, 0.45 * len(labels) + 1.5), 3.2))
  ax.bar(range(len(labels)), gap, color="tab:orange", label="end")
  starts = [(i, stats[k]["log_channels"] - stats[k]["init"]["entropy"])
            for i, k in enumerate(labels) if "entropy" in stats[k].get("init", {})]
  if starts:
    ax.plot(*zip(*starts), linestyle="none", marker="o", fillstyle="none",
            color="k", label="step 0")
  ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=90)
  ax.set_xlabel("pair (source_target point)")
  ax.set_ylabel("log C - entropy of w\n(0: uniform over channels)")
  ax.set_ylim(bottom=0)
  ax.legend(fontsize=7)
  ax.set_title("What to transfer: how far each pair's channel weights are from "
               "uniform (mean over validation)", fontsize=9)
  return figure


def _show(image: np.ndarray) -> np.ndarray:
  image = image - image.min()
  image = image / max(image.max(), 1e-12)
  return image[..., 0] if image.shape[-1] == 1 else image


def saliency_maps(images: np.ndarray, learned: np.ndarray, uniform: np.ndarray):
  """Fig. 6: saliency of L_wfm with uniform vs learned w, and their difference.

  Each map is normalised to sum 1 (a share of the image's saliency); the
  saliency panels share one colour scale and the differences one diverging
  scale centred on 0, each with its colour bar, so that a small difference
  looks small.
  """
  columns = ("image", "uniform w", "learned w", "learned - uniform")
  shares = [(a / max(a.sum(), 1e-12), b / max(b.sum(), 1e-12))
            for a, b in zip(learned, uniform)]
  top = max(float(max(a.max(), b.max())) for a, b in shares)
  spread = max(float(np.abs(a - b).max()) for a, b in shares) or 1e-12
  figure = plt.figure(figsize=(2.2 * len(columns), 2 * len(images) + 1))
  layout = figure.add_gridspec(len(images) + 1, len(columns),
                               height_ratios=[1] * len(images) + [0.07])
  axes = np.array([[figure.add_subplot(layout[r, c]) for c in range(len(columns))]
                   for r in range(len(images))])
  for row, (image, (a, b)) in enumerate(zip(images, shares)):
    shown = _show(image)
    axes[row][0].imshow(shown, cmap="gray" if shown.ndim == 2 else None)
    saliency = axes[row][1].imshow(b, cmap="inferno", vmin=0, vmax=top)
    axes[row][2].imshow(a, cmap="inferno", vmin=0, vmax=top)
    difference = axes[row][3].imshow(a - b, cmap="RdBu_r", vmin=-spread, vmax=spread)
    for ax, title in zip(axes[row], columns):
      ax.set_xticks([])
      ax.set_yticks([])
      if row == 0:
        ax.set_title(title, fontsize=9)
  for image, where, label in ((saliency, layout[-1, 1:3], "share of saliency"),
                              (difference, layout[-1, 3], "learned - uniform")):
    bar = figure.colorbar(image, cax=figure.add_subplot(where),
                          orientation="horizontal")
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7, rotation=30)
  figure.suptitle("Saliency max_c |dL_wfm/dx| (each map normalised to sum 1)",
                  fontsize=9)
  return figure


def learning_curves(histories: dict):
  """Validation accuracy per epoch of compared methods ({method: history})."""
  figure, ax = plt.subplots(figsize=(6, 3.5))
  for method, history in histories.items():
    values = 100 * np.asarray(history.get("val_accuracy", []))
    if values.size:
      ax.plot(np.arange(1, values.size + 1), values, marker=".", label=method)
  ax.set_xlabel("epoch")
  ax.set_ylabel("validation accuracy (%)")
  ax.legend(fontsize=8)
  ax.set_title("Learning curves of the compared methods", fontsize=9)
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
