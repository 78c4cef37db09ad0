"""One gated residual layer of the causal WaveNet decoder."""

import keras
import tensorflow as tf

from magenta_wavenet.model.layers.conv import PACKAGE
from magenta_wavenet.model.layers.conv import DilatedConv1D


def gate(preactivation):
  """`sigmoid(first half) * tanh(second half)` over the last axis."""
  filter_part, gate_part = tf.split(preactivation, 2, axis=-1)
  return tf.sigmoid(filter_part) * tf.tanh(gate_part)


def spread_frames(frames, hop_length, length):
  """Holds each code frame for `hop_length` samples: frame t // hop at t.

  Args:
    frames: [batch, num_frames, channels].
    hop_length: Samples per frame.
    length: Samples wanted, at most num_frames * hop_length.

  Returns:
    [batch, length, channels].
  """
  return tf.repeat(frames, hop_length, axis=1)[:, :length]


@keras.saving.register_keras_serializable(package=PACKAGE)
class DecoderBlock(keras.layers.Layer):
  """A WaveNet layer conditioned on the code.

  `d = gate(dilatedconv_i(l) + cond_map_i(code)); l += res_i(d); s += skip_i(d)`
  where the code frame used at sample t is t // hop_length.

  Args:
    width: Residual channels (the dilated conv outputs 2 * width).
    skip_width: Skip channels.
    filter_length: Taps of the causal convolution.
    dilation: Its dilation.
    hop_length: Samples per code frame.
    index: 1-based layer number; names the convolutions `dilatedconv_<i>`,
      `cond_map_<i>`, `res_<i>` and `skip_<i>` as in the published checkpoint.
    **kwargs: Passed to `keras.layers.Layer`.
  """

  def __init__(self, width, skip_width, filter_length, dilation, hop_length,
               index, **kwargs):
    kwargs.setdefault('name', f'block_{index}')
    super().__init__(**kwargs)
    self.width = width
    self.skip_width = skip_width
    self.filter_length = filter_length
    self.dilation = dilation
    self.hop_length = hop_length
    self.index = index
    self.dilated = DilatedConv1D(2 * width, filter_length, dilation,
                                 causal=True, name=f'dilatedconv_{index}')
    self.cond_map = DilatedConv1D(2 * width, 1, name=f'cond_map_{index}')
    self.res = DilatedConv1D(width, 1, name=f'res_{index}')
    self.skip = DilatedConv1D(skip_width, 1, name=f'skip_{index}')

  def build(self, input_shape, code_shape):  # pylint: disable=arguments-differ
    self.dilated.build(input_shape)
    self.cond_map.build(code_shape)
    gated_shape = tuple(input_shape[:-1]) + (self.width,)
    self.res.build(gated_shape)
    self.skip.build(gated_shape)

  def call(self, inputs, code):
    """Runs the layer over a whole sequence (teacher forcing).

    Args:
      inputs: Residual stream l, [batch, time, width].
      code: [batch, frames, bottleneck], frames * hop_length >= time.

    Returns:
      (new residual stream [batch, time, width],
       skip contribution [batch, time, skip_width]).
    """
    conditioning = spread_frames(self.cond_map(code), self.hop_length,
                                 tf.shape(inputs)[1])
    gated = gate(self.dilated(inputs) + conditioning)
    return inputs + self.res(gated), self.skip(gated)

  def get_config(self):
    config = super().get_config()
    config.update(width=self.width, skip_width=self.skip_width,
                  filter_length=self.filter_length, dilation=self.dilation,
                  hop_length=self.hop_length, index=self.index)
    return config
