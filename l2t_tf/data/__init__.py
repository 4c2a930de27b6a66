"""tf.data pipelines: raw sources, deterministic subsets, preprocessing."""
