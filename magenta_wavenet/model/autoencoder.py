"""The NSynth WaveNet autoencoder: encoder, decoder and the training loss."""

import keras
import tensorflow as tf

from magenta_wavenet.errors import AudioError
from magenta_wavenet.errors import CodeError
from magenta_wavenet.model.config import WaveNetConfig
from magenta_wavenet.model.config import get_config
from magenta_wavenet.model.decoder import WaveNetDecoder
from magenta_wavenet.model.encoder import NSynthEncoder
from magenta_wavenet.model.layers.conv import PACKAGE
from magenta_wavenet.sound import dsp
from magenta_wavenet.sound.pitch import append_pitch
from magenta_wavenet.sound.pitch import check_model_pitch
from magenta_wavenet.sound.pitch import note_pitches


@keras.saving.register_keras_serializable(package=PACKAGE)
class NSynthAutoencoder(keras.Model):
  """NSynth's WaveNet autoencoder, number for number the reference model.

  Args:
    config: A `WaveNetConfig` or a preset name ('h512_bo16', 'h64_bo16',
      'tiny').
    **kwargs: Passed to `keras.Model`.

  Example:
    >>> model = NSynthAutoencoder('tiny')
    >>> code = model.encode(audio)              # [batch, frames, 16]
    >>> logits = model.decoder_logits(audio, code)  # [batch, samples, 256]
  """

  def __init__(self, config='h512_bo16', **kwargs):
    kwargs.setdefault('name', 'nsynth_autoencoder')
    super().__init__(**kwargs)
    if isinstance(config, dict):
      config = WaveNetConfig.from_dict(config)
    self.config = get_config(config)
    self.encoder = NSynthEncoder(self.config)
    self.decoder = WaveNetDecoder(self.config)
    self.build((None, None))

  def build(self, input_shape):
    code_shape = (input_shape[0], None, self.config.code_width)
    self.encoder.build(input_shape)
    self.decoder.build(input_shape, code_shape)
    self.built = True

  def conv_layers(self):
    """Every convolution, keyed by its checkpoint scope ('dilatedconv_12')."""
    layers = [self.encoder.startconv, self.encoder.bottleneck,
              self.decoder.startconv, self.decoder.skip_start,
              self.decoder.out1, self.decoder.cond_map_out1,
              self.decoder.logits]
    for block in self.encoder.blocks:
      layers += [block.dilated, block.res]
    for block in self.decoder.blocks:
      layers += [block.dilated, block.cond_map, block.res, block.skip]
    return {layer.name: layer for layer in layers}

  def _network_input(self, audio):
    """float audio [batch, samples] -> mu-law network input q / 128."""
    return dsp.to_network_input(dsp.mu_law_encode(audio))

  def _as_batch(self, audio):
    audio = tf.convert_to_tensor(audio, tf.float32)
    if audio.shape.rank != 2:
      raise AudioError(
          f'audio must be [batch, samples], got shape {audio.shape}.')
    return audio

  def encode(self, audio, pitch=None):
    """Encodes audio into the NSynth code.

    The audio is first trimmed to a whole number of hops as the reference
    does (40,000 samples -> 39,936 -> 78 frames for h512_bo16).

    Args:
      audio: float32 [batch, samples] at 16 kHz in [-1, 1].
      pitch: Pitch-conditioned models only: the MIDI pitch to play the code
        at, one number or one per clip (fractions fall between semitones).
        By default each clip's own pitch (`pitch.note_pitches`, pYIN).

    Returns:
      float32 tensor [batch, samples // hop_length, code_width]: the
      bottleneck_width learned channels, then, for a pitch-conditioned
      model, the MIDI pitch in every frame.
    """
    audio = self._as_batch(audio)
    length = dsp.trimmed_length(audio.shape[1], self.config.hop_length)
    if length == 0:
      raise AudioError(
          f'audio has {audio.shape[1]} samples, fewer than one hop '
          f'({self.config.hop_length}).')
    code = self.encoder.infer(self._network_input(audio[:, :length]))
    if pitch is None and self.config.pitch_classes:
      pitch = note_pitches(audio.numpy(), self.config.sample_rate)
    pitch = check_model_pitch(self.config, pitch, audio.shape[0])
    return code if pitch is None else append_pitch(code, pitch)

  def decoder_logits(self, audio, code):
    """Teacher-forced decoder logits, the reference's pre-softmax output.

    Args:
      audio: float32 [batch, samples], the audio being predicted.
      code: float32 [batch, frames, code_width] with
        frames * hop_length >= samples; sample t uses frame t // hop_length.

    Returns:
      float32 tensor [batch, samples, 256]; softmax gives the reference's
      `predictions`, the distribution of sample t given samples < t.
    """
    audio = self._as_batch(audio)
    code = tf.convert_to_tensor(code, tf.float32)
    check_code(code, self.config, audio.shape[1])
    return self.decoder(self._network_input(audio), code)

  def call(self, audio, pitch=None, input_noise=0.0, noise_seed=(0, 0)):
    """Autoencodes trimmed audio: logits [batch, samples, 256].

    Args:
      audio: float32 [batch, samples].
      pitch: int or float [batch] MIDI pitches: required by a
        pitch-conditioned model, ignored by the others (so a training loop
        can pass the dataset's pitch to any model).
      input_noise, noise_seed: See `autoencode_input`.
    """
    length = dsp.trimmed_length(tf.shape(audio)[1], self.config.hop_length)
    return self.autoencode_input(self._network_input(audio[:, :length]),
                                 pitch, input_noise, noise_seed)

  def autoencode_input(self, inputs, pitch=None, input_noise=0.0,
                       noise_seed=(0, 0)):
    """Logits [batch, time, 256] of network input q / 128 [batch, time].

    Args:
      inputs: float32 mu-law network input, time a multiple of hop_length.
      pitch: [batch] MIDI pitches, required by a pitch-conditioned model.
      input_noise: Std of Gaussian noise added to what the decoder hears of
        the past samples (0.02 is about 2.5 of the 256 mu-law steps); the
        encoder hears the clean input. A training aid: the decoder learns
        to follow the code rather than copy its past samples, whose errors
        sampling feeds back. 0 for none.
      noise_seed: Two integers, the stateless seed of that noise.

    Raises:
      CodeError: for a pitch-conditioned model given no pitch.
    """
    code = self.encoder(inputs)
    if self.config.pitch_classes:
      if pitch is None:
        raise CodeError(
            f'the {self.config.name} model is pitch-conditioned: pass the '
            'MIDI pitch of each clip.')
      code = append_pitch(code, pitch)
    if input_noise:
      inputs = inputs + input_noise * tf.random.stateless_normal(
          tf.shape(inputs), noise_seed, dtype=inputs.dtype)
    return self.decoder(inputs, code)

  def nll(self, audio, pitch=None, input_noise=0.0, noise_seed=(0, 0)):
    """Mean cross-entropy of the mu-law classes in nats: the reference's loss.

    Args:
      audio: float32 [batch, samples], samples a multiple of hop_length.
      pitch: [batch] MIDI pitches, for a pitch-conditioned model.
      input_noise, noise_seed: See `autoencode_input`; the targets stay
        the clean samples.

    Returns:
      Scalar float32 tensor.
    """
    return tf.reduce_mean(cross_entropy(
        self(audio, pitch=pitch, input_noise=input_noise,
             noise_seed=noise_seed), audio))

  def get_config(self):
    return {'config': self.config.to_dict(), 'name': self.name}

  @classmethod
  def from_config(cls, config):
    return cls(**config)


def cross_entropy(logits, audio):
  """The reference's loss per sample: -ln p(mu-law class of x_t), nats.

  Args:
    logits: [batch, time, 256] decoder output.
    audio: float32 [batch, >= time] the audio predicted; cut to `time`.

  Returns:
    float32 tensor [batch, time].
  """
  labels = dsp.to_class(dsp.mu_law_encode(audio[:, :tf.shape(logits)[1]]))
  return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                        logits=logits)


def check_code(code, config, num_samples=None, source='code'):
  """Raises CodeError unless `code` is [batch, frames, code_width].

  Args:
    code: Array or tensor to check.
    config: The model's `WaveNetConfig`.
    num_samples: If given, the frames must cover this many samples.
    source: What to call the code in the message (e.g. a file name).
  """
  shape = tuple(code.shape)
  if len(shape) != 3 or shape[2] != config.code_width:
    raise CodeError(
        f'{source}: expected shape [batch, frames, {config.code_width}]'
        f', got {list(shape)}.')
  if shape[1] is not None and shape[1] < 1:
    raise CodeError(f'{source}: has no frames.')
  if num_samples is not None and shape[1] is not None and (
      shape[1] * config.hop_length < num_samples):
    raise CodeError(
        f'{source}: {shape[1]} frames cover {shape[1] * config.hop_length} '
        f'samples, fewer than the {num_samples} asked for.')
