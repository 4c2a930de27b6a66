"""Layers shared by the backbones."""
import keras
from keras import ops


@keras.saving.register_keras_serializable("l2t_tf")
class BatchNorm(keras.layers.BatchNormalization):
  """BatchNormalization whose batch moments are exact to second order.

  The TF backend's `ops.moments` stops the gradient through the mean inside the
  variance. First-order gradients stay exact, but the meta-gradient through a
  look-ahead does not (relative error ~1 against finite differences). Plain
  `mean`/`var` keep every path. Defaults follow PyTorch (momentum 0.1 there is
  0.9 here, epsilon 1e-5) so that reference weights port one to one.
  """

  def __init__(self, momentum=0.9, epsilon=1e-5, **kwargs):
    super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)

  def add_weight(self, *args, trainable=True, aggregation="none", **kwargs):
    # Moving statistics are averaged over replicas when assigned, so that every
    # replica (and every worker) holds the same weights after each step.
    if not trainable:
      aggregation = "mean"
    return super().add_weight(*args, trainable=trainable, aggregation=aggregation,
                              **kwargs)

  def _moments(self, inputs, mask):
    if mask is not None or self.synchronized:
      return super()._moments(inputs, mask)
    mean = ops.mean(inputs, axis=self._reduction_axes)
    variance = ops.var(inputs, axis=self._reduction_axes)
    return mean, variance


def conv_bn_relu(x, filters: int, stride: int = 1, name: str = "", relu=True,
                 kernel_size: int = 3, use_bias: bool = False):
  """Conv (symmetric padding, as PyTorch's padding=k//2), BatchNorm, optional ReLU.

  TF's 'same' padding is asymmetric for stride 2; explicit zero padding keeps
  the receptive fields of the PyTorch reference so its weights port exactly.
  """
  pad = kernel_size // 2
  if stride > 1 and pad:
    x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    padding = "valid"
  else:
    padding = "same"
  x = keras.layers.Conv2D(filters, kernel_size, strides=stride, padding=padding,
                          use_bias=use_bias, kernel_initializer="he_normal",
                          name=f"{name}_conv")(x)
  x = BatchNorm(name=f"{name}_bn")(x)
  if relu:
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
  return x
