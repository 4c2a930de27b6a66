"""What a trainer adds to Keras's contract for `train.run`, checkpoints and
callbacks: optimizer state beyond `optimizer`, and whether its steps train
the target now."""


class Hooks:
  """What a trainer adds to `train.run` beyond Keras's contract. Defaults:
  nothing, which is what a plain Keras model (scratch, finetune) gets."""

  def extra_state(self) -> list:
    """Variables a checkpoint holds besides the weights, `optimizer` and metrics."""
    return []

  def trains_target(self) -> bool:
    """Whether the steps now train the target (L2TL's source pre-training does
    not: its training accuracy means nothing then)."""
    return True


def of(model) -> Hooks:
  """`model`'s hooks, or the defaults for a plain Keras model."""
  return model if isinstance(model, Hooks) else Hooks()
