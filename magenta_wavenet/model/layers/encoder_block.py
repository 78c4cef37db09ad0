"""One residual layer of the non-causal NSynth encoder."""

import keras
import tensorflow as tf

from magenta_wavenet.model.layers.conv import PACKAGE
from magenta_wavenet.model.layers.conv import DilatedConv1D


@keras.saving.register_keras_serializable(package=PACKAGE)
class EncoderBlock(keras.layers.Layer):
  """`en + ae_res_i(relu(ae_dilatedconv_i(relu(en))))`.

  Args:
    width: Channels in and out.
    filter_length: Taps of the dilated convolution.
    dilation: Its dilation.
    index: 1-based layer number; names the convolutions `ae_dilatedconv_<i>`
      and `ae_res_<i>` as in the published checkpoint.
    **kwargs: Passed to `keras.layers.Layer`.
  """

  def __init__(self, width, filter_length, dilation, index, **kwargs):
    kwargs.setdefault('name', f'ae_block_{index}')
    super().__init__(**kwargs)
    self.width = width
    self.filter_length = filter_length
    self.dilation = dilation
    self.index = index
    self.dilated = DilatedConv1D(
        width, filter_length, dilation, causal=False,
        name=f'ae_dilatedconv_{index}')
    self.res = DilatedConv1D(width, 1, name=f'ae_res_{index}')

  def build(self, input_shape):
    self.dilated.build(input_shape)
    self.res.build(tuple(input_shape[:-1]) + (self.width,))

  def call(self, inputs):
    """Args: inputs [batch, time, width]. Returns the same shape."""
    hidden = tf.nn.relu(self.dilated(tf.nn.relu(inputs)))
    return inputs + self.res(hidden)

  def get_config(self):
    config = super().get_config()
    config.update(width=self.width, filter_length=self.filter_length,
                  dilation=self.dilation, index=self.index)
    return config
