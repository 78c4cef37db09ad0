"""An exponential moving average of a model's weights, distribution-aware."""

import tensorflow as tf


def ema_decay(step, decay=0.9999):
  """Decay of the weights' moving average after `step` updates.

  As TF1's `ExponentialMovingAverage(num_updates=step)`:
  `min(decay, (1 + step) / (10 + step))`, so early averages follow the
  weights instead of remembering their random start for ~10,000 steps.
  """
  step = tf.cast(step, tf.float32)
  return tf.minimum(tf.constant(decay, tf.float32),
                    (1.0 + step) / (10.0 + step))


class WeightAverage(tf.Module):
  """Shadow copies of variables, `shadow = d * shadow + (1 - d) * weight`.

  Create it inside the strategy's scope so the shadows are mirrored like the
  weights. It is trackable: put it in a `tf.train.Checkpoint`.

  Args:
    variables: The model's trainable variables (Keras or tf.Variables).
    decay: Largest decay; see `ema_decay` for the warm-up.
  """

  def __init__(self, variables, decay=0.9999):
    super().__init__(name='weight_average')
    # Keras variables wrap a tf.Variable; tf.Variable.value is a method.
    self._weights = [v if isinstance(v, tf.Variable) else v.value
                     for v in variables]
    self.decay = decay
    self.shadows = [
        tf.Variable(tf.identity(v), trainable=False,
                    name=v.name.split(':')[0].replace('/', '_') + '_ema')
        for v in self._weights]

  def update(self, step):
    """Moves every shadow towards its weight; call in cross-replica context.

    Args:
      step: Number of optimizer updates so far (scalar tensor).
    """
    decay = ema_decay(step, self.decay)
    # In cross-replica context a mirrored variable reads as its (identical)
    # copies' value and an assignment writes every copy.
    for shadow, weight in zip(self.shadows, self._weights):
      shadow.assign(decay * shadow + (1.0 - decay) * weight)

  def restart(self):
    """Sets every shadow to its weight, as at construction (after the
    weights were replaced, e.g. by a warm start)."""
    for shadow, weight in zip(self.shadows, self._weights):
      shadow.assign(weight)

  def values(self):
    """The averaged weights as numpy arrays, in the order of `variables`."""
    return [shadow.numpy() for shadow in self.shadows]
