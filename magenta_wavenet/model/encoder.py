"""The non-causal dilated-convolution encoder of NSynth."""

import keras
import tensorflow as tf

from magenta_wavenet.model import winograd
from magenta_wavenet.model.config import WaveNetConfig
from magenta_wavenet.model.layers import DilatedConv1D
from magenta_wavenet.model.layers import EncoderBlock
from magenta_wavenet.model.layers.conv import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class NSynthEncoder(keras.layers.Layer):
  """Audio to code: 16 numbers per 512 samples for h512_bo16.

  `ae_startconv` (centred conv, 1 -> width), `encoder_layers` residual
  `EncoderBlock`s, `ae_bottleneck` (1x1, width -> bottleneck), then an average
  pool with window = stride = hop_length.

  Args:
    config: A `WaveNetConfig`.
    **kwargs: Passed to `keras.layers.Layer`.
  """

  def __init__(self, config, **kwargs):
    kwargs.setdefault('name', 'encoder')
    super().__init__(**kwargs)
    if isinstance(config, dict):
      config = WaveNetConfig.from_dict(config)
    self.config = config
    self.startconv = DilatedConv1D(
        config.encoder_width, config.encoder_filter_length, causal=False,
        name='ae_startconv')
    self.blocks = [
        EncoderBlock(config.encoder_width, config.encoder_filter_length,
                     dilation, index=i + 1)
        for i, dilation in enumerate(config.encoder_dilations)]
    self.bottleneck = DilatedConv1D(config.bottleneck_width, 1,
                                    name='ae_bottleneck')

  def build(self, input_shape):
    batch, time = input_shape[0], input_shape[1]
    self.startconv.build((batch, time, 1))
    hidden_shape = (batch, time, self.config.encoder_width)
    for block in self.blocks:
      block.build(hidden_shape)
    self.bottleneck.build(hidden_shape)

  def features(self, inputs):
    """Pre-pooling code: [batch, time] -> [batch, time, bottleneck]."""
    hidden = self.startconv(inputs[..., tf.newaxis])
    for block in self.blocks:
      hidden = block(hidden)
    return self.bottleneck(hidden)

  def call(self, inputs):
    """Encodes network-scaled audio.

    Args:
      inputs: Mu-law network input q / 128, [batch, time], time a multiple
        of hop_length.

    Returns:
      Code [batch, time // hop_length, bottleneck_width].
    """
    return self._pooled(self.features(inputs))

  def infer(self, inputs):
    """`call` for inference: run eagerly, the residual blocks by Winograd's
    F(4, 3) (`winograd.encoder_blocks`, 0.625x the arithmetic), the same
    code within float32 rounding (2e-7 of its largest value). In a
    graph (`tf.function`), or for other than three taps (no preset has
    them), `call` itself.

    Args:
      inputs: Mu-law network input q / 128, [batch, time], time a multiple
        of hop_length.

    Returns:
      Code [batch, time // hop_length, bottleneck_width], a tensor.
    """
    if self.config.encoder_filter_length != 3 or not tf.executing_eagerly():
      return self(inputs)
    hidden = self.startconv(tf.convert_to_tensor(inputs)[..., tf.newaxis])
    hidden = winograd.encoder_blocks(hidden.numpy(), self.blocks)
    return self._pooled(self.bottleneck(hidden))

  def _pooled(self, features):
    """The mean of features [batch, time, bottleneck] over each hop."""
    batch, time = tf.shape(features)[0], tf.shape(features)[1]
    frames = tf.reshape(features, [
        batch, time // self.config.hop_length, self.config.hop_length,
        self.config.bottleneck_width])
    return tf.reduce_mean(frames, axis=2)

  def get_config(self):
    config = super().get_config()
    config.update(config=self.config.to_dict())
    return config
