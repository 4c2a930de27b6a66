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


def test_matching_graph_draws_each_pair_over_the_threshold(tmp_path):
  figure = plots.matching_graph(_stats())
  ax = figure.axes[0]
  drawn = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
  assert drawn == {"1_2": "0.50", "2_1": "1.20", "2_2": "2.50"}  # 1_1 < 0.1
  widths = {line.get_gid(): line.get_linewidth() for line in ax.lines}
  assert widths["2_2"] == 8.0 and abs(widths["1_2"] / widths["2_2"] - 0.2) < 1e-9
  assert_png_not_blank(plots.save(figure, tmp_path / "graph.png"))


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


def test_channel_weights_titles_carry_the_entropy(tmp_path):
  rng = np.random.RandomState(0)
  weights = [rng.dirichlet(np.ones(c), size=6) for c in (4, 8, 16)]
  figure = plots.channel_weights(weights, ["1_1", "2_1", "3_1"])
  titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
  for title, w in zip(titles, weights):
    assert f"H = {analysis.entropy(w).mean():.3f}" in title
  assert_png_not_blank(plots.save(figure, tmp_path / "weights.png"))


def test_entropy_by_hand():
  np.testing.assert_allclose(analysis.entropy(np.array([[0.5, 0.5], [1.0, 0.0]])),
                             [np.log(2), 0.0], atol=1e-9)


def test_saliency_maps(tmp_path):
  rng = np.random.RandomState(0)
  images = rng.normal(size=(2, 16, 16, 3))
  figure = plots.saliency_maps(images, rng.rand(2, 16, 16), rng.rand(2, 16, 16))
  assert len(figure.axes) == 10
  assert_png_not_blank(plots.save(figure, tmp_path / "saliency.png"))


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
