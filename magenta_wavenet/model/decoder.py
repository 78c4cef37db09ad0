"""The causal WaveNet decoder of NSynth, conditioned on the code."""

import keras
import tensorflow as tf

from magenta_wavenet.model.config import WaveNetConfig
from magenta_wavenet.model.layers import DecoderBlock
from magenta_wavenet.model.layers import DilatedConv1D
from magenta_wavenet.model.layers.conv import PACKAGE
from magenta_wavenet.model.layers.decoder_block import spread_frames
from magenta_wavenet.sound.pitch import soft_one_hot


def shift_right(inputs):
  """[batch, time] -> [batch, time]: a zero first, the last sample dropped."""
  return tf.pad(inputs, [[0, 0], [1, 0]])[:, :-1]


@keras.saving.register_keras_serializable(package=PACKAGE)
class WaveNetDecoder(keras.layers.Layer):
  """Teacher-forced logits of each mu-law sample given the past and the code.

  `startconv` (causal, 1 -> width) on the input shifted right by one sample,
  `skip_start` (1x1, width -> skip), `decoder_layers` `DecoderBlock`s, then
  `logits(relu(out1(relu(skips)) + cond_map_out1(code)))`.

  Args:
    config: A `WaveNetConfig`.
    **kwargs: Passed to `keras.layers.Layer`.
  """

  def __init__(self, config, **kwargs):
    kwargs.setdefault('name', 'decoder')
    super().__init__(**kwargs)
    if isinstance(config, dict):
      config = WaveNetConfig.from_dict(config)
    self.config = config
    self.startconv = DilatedConv1D(config.decoder_width, config.filter_length,
                                   causal=True, name='startconv')
    self.skip_start = DilatedConv1D(config.skip_width, 1, name='skip_start')
    self.blocks = [
        DecoderBlock(config.decoder_width, config.skip_width,
                     config.filter_length, dilation, config.hop_length,
                     index=i + 1)
        for i, dilation in enumerate(config.decoder_dilations)]
    self.out1 = DilatedConv1D(config.skip_width, 1, name='out1')
    self.cond_map_out1 = DilatedConv1D(config.skip_width, 1,
                                       name='cond_map_out1')
    self.logits = DilatedConv1D(config.quantization_channels, 1, name='logits')

  def build(self, input_shape, code_shape):  # pylint: disable=arguments-differ
    batch, time = input_shape[0], input_shape[1]
    config = self.config
    code_shape = tuple(code_shape[:-1]) + (config.conditioning_width,)
    self.startconv.build((batch, time, 1))
    residual_shape = (batch, time, config.decoder_width)
    skip_shape = (batch, time, config.skip_width)
    self.skip_start.build(residual_shape)
    for block in self.blocks:
      block.build(residual_shape, code_shape)
    self.out1.build(skip_shape)
    self.cond_map_out1.build(code_shape)
    self.logits.build(skip_shape)

  def conditioning(self, code):
    """What the cond_map layers read: the code, one-hot pitch appended.

    Args:
      code: [batch, frames, code_width]; a pitch-conditioned model's last
        channel is the MIDI pitch.

    Returns:
      [batch, frames, conditioning_width]: the code itself for the published
      model; bottleneck channels + `pitch.soft_one_hot` of the pitch
      otherwise.
    """
    config = self.config
    if not config.pitch_classes:
      return code
    return tf.concat(
        [code[..., :config.bottleneck_width],
         soft_one_hot(code[..., config.bottleneck_width],
                      config.pitch_classes)], axis=-1)

  def call(self, inputs, code):
    """Teacher-forced pass.

    Args:
      inputs: Mu-law network input q / 128 of the target audio, [batch, time]
        (not shifted: the decoder shifts it so that step t sees x[< t]).
      code: [batch, frames, code_width]; sample t uses frame
        t // hop_length, so frames * hop_length >= time.

    Returns:
      Logits over the 256 mu-law classes, [batch, time, 256].
    """
    code = self.conditioning(code)
    residual = self.startconv(shift_right(inputs)[..., tf.newaxis])
    skips = self.skip_start(residual)
    for block in self.blocks:
      residual, skip = block(residual, code)
      skips += skip
    hidden = self.out1(tf.nn.relu(skips)) + spread_frames(
        self.cond_map_out1(code), self.config.hop_length, tf.shape(inputs)[1])
    return self.logits(tf.nn.relu(hidden))

  def get_config(self):
    config = super().get_config()
    config.update(config=self.config.to_dict())
    return config
