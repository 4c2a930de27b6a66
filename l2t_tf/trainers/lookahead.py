"""The stateless look-ahead of Algorithm 1: SGD steps on tensors, not variables.

Parameters travel as tensors so that the outer (meta) tape sees every step;
assigning them into variables would cut the meta-gradient (it comes back None).
"""
from typing import Callable, Sequence

import tensorflow as tf

Tensors = list[tf.Tensor]


def gradients(loss_fn: Callable[[Tensors], tf.Tensor], params: Tensors) -> Tensors:
  """Gradient of loss_fn at params; zero (not None) for unconnected params.

  Under a multi-replica strategy the per-replica gradients are summed, so the
  look-ahead follows the global batch exactly as one device would (each
  replica's loss is already divided by the number of replicas).
  """
  with tf.GradientTape() as tape:
    tape.watch(params)
    loss = loss_fn(params)
  grads = tape.gradient(loss, params,
                        unconnected_gradients=tf.UnconnectedGradients.ZERO)
  context = tf.distribute.get_replica_context()
  if context is not None and context.num_replicas_in_sync > 1:
    grads = context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
  return grads


def sgd_step(params: Tensors, velocities: Sequence[tf.Tensor], grads: Tensors,
             learning_rate, momentum: float, l2: float, rule: str = "pytorch"):
  """The target optimizer's rule (`optim.SGDL2`, coupled weight decay) on tensors.

  pytorch: v <- momentum * v + (g + l2 * p);        p <- p - lr * v.
  keras:   v <- momentum * v - lr * (g + l2 * p);   p <- p + v.
  Returns (new params, new velocities).
  """
  new_params, new_velocities = [], []
  for p, v, g in zip(params, velocities, grads):
    if rule == "pytorch":
      v = momentum * v + (g + l2 * p)
      new_params.append(p - learning_rate * v)
    else:
      v = momentum * v - learning_rate * (g + l2 * p)
      new_params.append(p + v)
    new_velocities.append(v)
  return new_params, new_velocities
