"""Layers shared by the backbones, and the initialisation recipe they follow."""
import dataclasses

import keras
from keras import ops

from l2t_tf.errors import UserError

INITS = ("reference", "keras")


@keras.saving.register_keras_serializable("l2t_tf")
class BatchNorm(keras.layers.BatchNormalization):
  """BatchNormalization whose batch moments are exact to second order.

  The TF backend's `ops.moments` stops the gradient through the mean inside the
  variance. First-order gradients stay exact, but the meta-gradient through a
  look-ahead does not (relative error ~1 against finite differences). Plain
  `mean`/`var` keep every path. Defaults follow PyTorch (momentum 0.1 there is
  0.9 here, epsilon 1e-5) so that reference weights port one to one.

  `unbiased_moving_variance`: update the moving variance with the unbiased
  batch variance (n / (n - 1), as PyTorch); batches are still normalised with
  the biased one, as in both frameworks.
  """

  def __init__(self, momentum=0.9, epsilon=1e-5, unbiased_moving_variance=False,
               **kwargs):
    super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)
    self.unbiased_moving_variance = unbiased_moving_variance

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

  def call(self, inputs, training=None, mask=None):
    if not (training and self.trainable and self.unbiased_moving_variance
            and mask is None and not self.renorm):
      return super().call(inputs, training=training, mask=mask)
    inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    mean, variance = self._moments(inputs, None)
    count = 1
    for axis in self._reduction_axes:
      count *= ops.shape(inputs)[axis]
    count = ops.cast(count, inputs.dtype)
    unbiased = variance * count / ops.maximum(count - 1.0, 1.0)
    momentum = self.momentum
    self.moving_mean.assign(ops.cast(self.moving_mean, inputs.dtype) * momentum
                            + mean * (1.0 - momentum))
    self.moving_variance.assign(
        ops.cast(self.moving_variance, inputs.dtype) * momentum
        + unbiased * (1.0 - momentum))
    outputs = ops.batch_normalization(
        inputs, mean, variance, axis=self.axis,
        offset=ops.cast(self.beta, inputs.dtype) if self.center else None,
        scale=ops.cast(self.gamma, inputs.dtype) if self.scale else None,
        epsilon=self.epsilon)
    return ops.cast(outputs, self.compute_dtype)

  def get_config(self):
    return {**super().get_config(),
            "unbiased_moving_variance": self.unbiased_moving_variance}


def with_stock_layers(model: keras.Model) -> keras.Model:
  """A copy of `model` whose BatchNorm layers are Keras's own, weights included.

  At inference BatchNorm computes what keras.layers.BatchNormalization does;
  the copy is what `model.keras` holds, so plain Keras loads it in a process
  that never imports l2t_tf.
  """
  if not any(isinstance(layer, BatchNorm) for layer in model._flatten_layers()):  # pylint: disable=protected-access
    return model
  def clone(layer):
    if isinstance(layer, BatchNorm):
      config = layer.get_config()
      config.pop("unbiased_moving_variance")
      return keras.layers.BatchNormalization.from_config(config)
    return layer.__class__.from_config(layer.get_config())
  copy = keras.models.clone_model(model, clone_function=clone)
  copy.set_weights(model.get_weights())
  return copy


def _torch_default_bound(fan_in: int) -> float:
  """PyTorch's default Conv2d/Linear init: U(+-1/sqrt(fan_in)) for kernel and bias."""
  return 1.0 / max(1, fan_in) ** 0.5


@dataclasses.dataclass(frozen=True)
class Recipe:
  """How a backbone initialises its layers and keeps BatchNorm statistics.

  init: 'reference' is the authors' PyTorch code: convolutions He-normal over
    fan-out (untruncated), the VGG classifier N(0, 0.01), other dense layers
    and the 1x1 regressors PyTorch's default U(+-1/sqrt(fan_in)) kernel and
    bias. 'keras' is Keras's usual choice (He-normal over fan-in, truncated;
    Glorot-uniform dense; zero biases): l2t_tf 0.1.
  unbiased_moving_variance: see `BatchNorm`.
  """
  init: str = "reference"
  unbiased_moving_variance: bool = False

  def __post_init__(self):
    if self.init not in INITS:
      raise UserError(f"unknown model.init '{self.init}'",
                      f"use one of {list(INITS)}")

  def conv_kernel(self):
    if self.init == "keras":
      return "he_normal"
    return keras.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal")

  def dense(self, units: int, fan_in: int, name: str, small_normal: bool = False):
    """A dense layer; `small_normal`: N(0, 0.01) kernel as the reference's VGG."""
    if self.init == "keras":
      return keras.layers.Dense(units, name=name)
    if small_normal:
      return keras.layers.Dense(
          units, name=name, bias_initializer="zeros",
          kernel_initializer=keras.initializers.RandomNormal(0.0, 0.01))
    bound = _torch_default_bound(fan_in)
    uniform = keras.initializers.RandomUniform(-bound, bound)
    return keras.layers.Dense(units, name=name, kernel_initializer=uniform,
                              bias_initializer=uniform)

  def regressor(self, filters: int, fan_in: int, name: str):
    """The 1x1 convolution r of a matching pair (PyTorch's default Conv2d init)."""
    if self.init == "keras":
      return keras.layers.Conv2D(filters, 1, name=name)
    bound = _torch_default_bound(fan_in)
    uniform = keras.initializers.RandomUniform(-bound, bound)
    return keras.layers.Conv2D(filters, 1, name=name, kernel_initializer=uniform,
                               bias_initializer=uniform)

  def batch_norm(self, name: str) -> BatchNorm:
    return BatchNorm(name=name,
                     unbiased_moving_variance=self.unbiased_moving_variance)


def recipe_from_config(model_config) -> Recipe:
  """The Recipe of `model.init` and `model.unbiased_moving_variance`."""
  return Recipe(model_config.get("init", "reference"),
                bool(model_config.get("unbiased_moving_variance", False)))


def conv_bn_relu(x, filters: int, stride: int = 1, name: str = "", relu=True,
                 kernel_size: int = 3, use_bias: bool = False,
                 recipe: Recipe = Recipe()):
  """Conv (symmetric padding, as PyTorch's padding=k//2), BatchNorm, optional ReLU.

  TF's 'same' padding is asymmetric for stride 2; explicit zero padding keeps
  the receptive fields of the PyTorch reference so its weights port exactly.
  (A bias before BatchNorm is a no-op in training: the reference's VGG has one,
  ours does not.)
  """
  pad = kernel_size // 2
  if stride > 1 and pad:
    x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    padding = "valid"
  else:
    padding = "same"
  x = keras.layers.Conv2D(filters, kernel_size, strides=stride, padding=padding,
                          use_bias=use_bias, kernel_initializer=recipe.conv_kernel(),
                          name=f"{name}_conv")(x)
  x = recipe.batch_norm(f"{name}_bn")(x)
  if relu:
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
  return x
