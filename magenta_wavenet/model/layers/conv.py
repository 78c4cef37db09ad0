"""The dilated 1-D convolution of NSynth, causal or centred."""

import keras
import tensorflow as tf

PACKAGE = 'magenta_wavenet'


@keras.saving.register_keras_serializable(package=PACKAGE)
class DilatedConv1D(keras.layers.Layer):
  """Dilated 1-D convolution with the reference's tap order and weight names.

  Causal: `y[t] = b + sum_i W[i] x[t - (k - 1 - i) d]`, so with k = 3 kernel
  index 0 multiplies x[t - 2d], index 1 x[t - d] and index 2 x[t].
  Non-causal ("same"): `y[t] = b + sum_i W[i] x[t + (i - (k - 1) / 2) d]`,
  zero outside the signal. With k = 1 both are a 1x1 convolution.

  Weights are named as the published checkpoint's scopes: `W` with shape
  [filter_length, in_channels, filters] (the checkpoint stores it as
  [1, filter_length, in, out]) and `biases` [filters].

  Args:
    filters: Output channels.
    filter_length: Taps k.
    dilation: Spacing d of the taps, in samples.
    causal: Whether outputs see only the present and the past.
    kernel_initializer: As the reference's `uniform_unit_scaling(1.0)`.
    **kwargs: Passed to `keras.layers.Layer` (`name` sets the scope).

  Example:
    >>> conv = DilatedConv1D(1024, 3, dilation=4, name='dilatedconv_3')
    >>> conv(tf.zeros([2, 100, 512])).shape
    TensorShape([2, 100, 1024])
  """

  def __init__(self, filters, filter_length=1, dilation=1, causal=True,
               kernel_initializer=None, **kwargs):
    super().__init__(**kwargs)
    if filters < 1 or filter_length < 1 or dilation < 1:
      raise ValueError(
          f'{self.name}: filters, filter_length and dilation must be >= 1, '
          f'got {filters}, {filter_length}, {dilation}.')
    if not causal and filter_length % 2 == 0:
      raise ValueError(f'{self.name}: a non-causal convolution needs an odd '
                       f'filter_length, got {filter_length}.')
    self.filters = filters
    self.filter_length = filter_length
    self.dilation = dilation
    self.causal = causal
    self.kernel_initializer = keras.initializers.get(
        kernel_initializer or keras.initializers.VarianceScaling(
            1.0, mode='fan_in', distribution='uniform'))

  def build(self, input_shape):
    in_channels = input_shape[-1]
    self.kernel = self.add_weight(
        name='W', shape=(self.filter_length, in_channels, self.filters),
        initializer=self.kernel_initializer)
    self.bias = self.add_weight(
        name='biases', shape=(self.filters,), initializer='zeros')

  @property
  def padding(self):
    """(left, right) zero padding in samples."""
    span = (self.filter_length - 1) * self.dilation
    return (span, 0) if self.causal else (span // 2, span // 2)

  def call(self, inputs):
    """Args: inputs [batch, time, in_channels].

    Returns:
      [batch, time, filters].
    """
    if self.filter_length == 1:
      return tf.einsum('btc,cf->btf', inputs, self.kernel[0]) + self.bias
    left, right = self.padding
    padded = tf.pad(inputs, [[0, 0], [left, right], [0, 0]])
    outputs = tf.nn.convolution(padded, self.kernel, padding='VALID',
                                dilations=self.dilation)
    return outputs + self.bias

  def compute_output_shape(self, input_shape):
    return tuple(input_shape[:-1]) + (self.filters,)

  def get_config(self):
    config = super().get_config()
    config.update(
        filters=self.filters, filter_length=self.filter_length,
        dilation=self.dilation, causal=self.causal,
        kernel_initializer=keras.initializers.serialize(
            self.kernel_initializer))
    return config
