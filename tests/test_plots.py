"""Each figure draws what it is given and renders to a non-blank PNG."""
import numpy as np
import tensorflow as tf

from l2t_tf import analysis, plots


def _stats():
  means = {(1, 1): 0.05, (1, 2): 0.5, (2, 1): 1.2, (2, 2): 2.5}
  return {f"{m}_{n}": {"source": f"s{m}", "target": f"t{n}", "source_network": 0,
                       "source_index": m, "target_index": n, "mean": mean,
                       "std": 0.1} for (m, n), mean in means.items()}


def assert_png_not_blank(path):
  image = tf.io.decode_png(tf.io.read_file(str(path))).numpy()
  assert image.shape[0] > 100 and image.shape[1] > 100
  assert image[..., :3].std() > 10  # not one flat colour
  assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 20


def test_matching_heatmap_colours_lambda_and_marks_significance(tmp_path):
  final = {k: dict(v, entropy=1.0) for k, v in _stats().items()}
  stats = analysis.with_start(final, {k: {"mean": 0.5, "std": 0.0, "entropy": 1.0}
                                      for k in final})
  figure = plots.matching(stats, {"2_2": 4.0, "1_2": -0.4})
  ax = figure.axes[0]
  drawn = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
  assert drawn == {"1_1": "0.05\n-0.45", "1_2": "0.50\n+0.00\nt -0.4",
                   "2_1": "1.20\n+0.70", "2_2": "2.50\n+2.00\nt +4.0*"}
  np.testing.assert_array_equal(ax.images[0].get_array(), [[0.05, 0.5], [1.2, 2.5]])
  assert_png_not_blank(plots.save(figure, tmp_path / "matching.png"))


def test_lambda_over_training_plots_the_trace_in_epoch_order(tmp_path):
  trace = {}
  for label in _stats():
    for epoch, value in enumerate(np.linspace(1, 2, 12) * (1 + len(label))):
      trace.setdefault(str(epoch + 1), {})[f"train_lambda/{label}"] = value
      trace[str(epoch + 1)][f"train_lambda_std/{label}"] = 0.1
  figure = plots.lambda_over_training(trace, _stats())
  curves = {(ax.get_title(), line.get_label()): line.get_ydata()
            for ax in figure.axes for line in ax.lines}
  np.testing.assert_array_equal(curves[("source s2", "target 1")],  # not 1, 10, 11, 2
                                np.linspace(1, 2, 12) * (1 + len("2_1")))
  assert len(curves) == 4
  assert_png_not_blank(plots.save(figure, tmp_path / "curves.png"))


def test_channel_weights_chart_the_entropy_gap_and_its_start(tmp_path):
  stats = _stats()
  for k, v in stats.items():
    v.update(log_channels=np.log(8), entropy=np.log(8) - 0.1 * v["source_index"],
             init={"entropy": np.log(8) - 0.05})
  figure = plots.channel_weights(stats)
  ax = figure.axes[0]
  heights = [p.get_height() for p in ax.patches]
  np.testing.assert_allclose(heights, [0.1, 0.1, 0.2, 0.2])  # 1_1, 1_2, 2_1, 2_2
  np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.05] * 4)
  assert [t.get_text() for t in ax.get_xticklabels()] == ["1_1", "1_2", "2_1", "2_2"]
  assert_png_not_blank(plots.save(figure, tmp_path / "weights.png"))


def test_entropy_by_hand():
  np.testing.assert_allclose(analysis.entropy(np.array([[0.5, 0.5], [1.0, 0.0]])),
                             [np.log(2), 0.0], atol=1e-9)


def test_saliency_maps(tmp_path):
  rng = np.random.RandomState(0)
  images = rng.normal(size=(2, 16, 16, 3))
  figure = plots.saliency_maps(images, rng.rand(2, 16, 16), rng.rand(2, 16, 16))
  assert len(figure.axes) == 4 * 2 + 2  # two colour bars
  scales = {ax.images[0].get_clim() for ax in figure.axes[:8] if ax.images
            and ax.images[0].get_cmap().name == "inferno"}
  assert len(scales) == 1  # every saliency panel on one scale
  low, high = figure.axes[3].images[0].get_clim()
  assert low == -high  # the difference, centred on 0
  assert_png_not_blank(plots.save(figure, tmp_path / "saliency.png"))


def test_learning_curves_draw_each_method(tmp_path):
  figure = plots.learning_curves({"scratch": {"val_accuracy": [0.5, 0.6, 0.7]},
                                  "l2t_ww": {"val_accuracy": [0.6, 0.7, 0.8]}})
  lines = {l.get_label(): l.get_ydata() for l in figure.axes[0].lines}
  np.testing.assert_allclose(lines["l2t_ww"], [60, 70, 80])
  assert set(lines) == {"scratch", "l2t_ww"}
  assert_png_not_blank(plots.save(figure, tmp_path / "curves.png"))


def test_noise_mass_draws_each_pair_start_and_end(tmp_path):
  what = {"pairs": [{"pair": "1_1", "start": 0.5, "end": 0.3},
                    {"pair": "1_2", "start": 0.5, "end": 0.45}]}
  figure = plots.noise_mass(what)
  ends = [p.get_height() for p in figure.axes[0].patches if p.get_gid() == "end"]
  assert ends == [0.3, 0.45]
  assert_png_not_blank(plots.save(figure, tmp_path / "noise.png"))


def test_policy_over_training_draws_the_start_and_colours_groups():
  names = ["garment:Coat", "garment:Bag", "digit:1", "digit:2"]
  trace = {"0": {"expected_lambda": [0.5] * 4, "steps": 0},
           "1": {"expected_lambda": [0.5] * 4, "steps": 50},      # pre-training
           "2": {"expected_lambda": [0.4, 0.45, 0.6, 0.7], "steps": 50}}
  figure = plots.policy_over_training(trace, names)
  ax = figure.axes[0]
  assert sorted(ax.get_legend_handles_labels()[1]) == ["digit", "garment"]
  curves = [line for line in ax.get_lines() if len(line.get_xdata()) == 3]
  assert len(curves) == 4 and list(curves[0].get_xdata()) == [0, 50, 100]
  starts = [line for line in ax.get_lines() if len(line.get_xdata()) == 1]
  assert len(starts) == 4 and all(line.get_ydata()[0] == 0.5 for line in starts)
