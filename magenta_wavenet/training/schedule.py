"""The reference's learning-rate steps; pure maths."""

import keras
import tensorflow as tf

# Step -> learning rate of Magenta's NSynth trainer (200k steps, batch 32).
REFERENCE_STEPS = ((0, 2e-4), (90000, 4e-4 / 3), (120000, 6e-5),
                   (150000, 4e-5), (180000, 2e-5), (210000, 6e-6),
                   (240000, 2e-6))


class ReferenceSchedule(keras.optimizers.schedules.LearningRateSchedule):
  """Piecewise-constant learning rate of the reference, scalable.

  `rate(step) = scale * r_i` for `step >= step_scale * s_i`, the last such i,
  with (s_i, r_i) from `REFERENCE_STEPS`. `scale` suits other batch sizes and
  small presets; `step_scale` shortens the schedule for short runs (0.01 puts
  the first drop at step 900).

  Args:
    scale: Multiplies every rate.
    step_scale: Multiplies every boundary step.
  """

  def __init__(self, scale=1.0, step_scale=1.0):
    super().__init__()
    if scale <= 0 or step_scale <= 0:
      raise ValueError(f'scale and step_scale must be > 0, got {scale}, '
                       f'{step_scale}.')
    self.scale = float(scale)
    self.step_scale = float(step_scale)

  def __call__(self, step):
    step = tf.cast(step, tf.float32)
    rate = tf.constant(REFERENCE_STEPS[0][1] * self.scale, tf.float32)
    for boundary, value in REFERENCE_STEPS[1:]:
      rate = tf.where(step >= boundary * self.step_scale,
                      tf.constant(value * self.scale, tf.float32), rate)
    return rate

  def get_config(self):
    return {'scale': self.scale, 'step_scale': self.step_scale}
