"""Hyperparameters of the NSynth WaveNet autoencoder, with named presets.

One frozen `WaveNetConfig` holds every architectural hyperparameter; the
dilation schedules and receptive fields are derived from it. Presets:

* `h512_bo16`: the published NSynth model (Engel et al. 2017), 61,804,048
  parameters, the shape of `wavenet-ckpt/model.ckpt-200000`; it encodes
  audio at the level given, as Magenta's tools do.
* `h64_bo16`: a small model that trains on a 2-core CPU and generates faster
  than real time; the shipped checkpoint uses it. Quiet audio is raised to
  the peak of its training notes before it is encoded (`input_peak`).
* `h64_bo16_pitch`: `h64_bo16` with the NSynth paper's pitch conditioning.
* `tiny`: a few thousand parameters, for tests.
"""

import dataclasses

from magenta_wavenet.errors import ConfigError
from magenta_wavenet.sound.audio import SAMPLE_RATE
from magenta_wavenet.sound.dsp import NOTE_PEAK

MIDI_PITCHES = 128


@dataclasses.dataclass(frozen=True)
class WaveNetConfig:
  """Architecture of an NSynth WaveNet autoencoder.

  Attributes:
    name: Preset name, stored with checkpoints.
    encoder_width: Channels of the non-causal encoder.
    encoder_layers: Residual layers in the encoder.
    encoder_stages: The encoder's dilation doubles `encoder_stages` times,
      then restarts at 1.
    encoder_filter_length: Taps of the encoder's dilated convolutions.
    bottleneck_width: Channels of the code (16 numbers per frame).
    hop_length: Samples per code frame (average-pool window and stride).
    decoder_width: Residual channels of the causal decoder.
    skip_width: Channels of the decoder's skip connections.
    decoder_layers: Residual layers in the decoder.
    decoder_stages: Like `encoder_stages`, for the decoder.
    filter_length: Taps of the decoder's causal convolutions (3).
    quantization_channels: Mu-law classes (256).
    sample_rate: Audio rate in Hz.
    pitch_classes: 0 for the published, unconditioned decoder; 128 for the
      NSynth paper's pitch-conditioned one, whose conditioning is the code
      with a one-hot MIDI pitch appended. Such a model's codes carry the
      pitch as one more channel (`code_width` = bottleneck_width + 1).
    input_peak: The peak that quieter audio is raised to, its offset out,
      before it is encoded (`dsp.to_level`; a resynthesis is lowered
      back): the level of the notes the model was trained on. 0 encodes
      audio as it is (offset and all), as Magenta's tools do. The
      shipped models, trained on notes at a peak of 0.9, lose pitch and
      spectrum on quiet sounds otherwise (the real NSynth notes at a peak
      of 0.05 kept their pitch on 52% of their frames, against 79% at
      0.8).
  """

  name: str = 'custom'
  encoder_width: int = 128
  encoder_layers: int = 30
  encoder_stages: int = 10
  encoder_filter_length: int = 3
  bottleneck_width: int = 16
  hop_length: int = 512
  decoder_width: int = 512
  skip_width: int = 256
  decoder_layers: int = 30
  decoder_stages: int = 10
  filter_length: int = 3
  quantization_channels: int = 256
  sample_rate: int = SAMPLE_RATE
  pitch_classes: int = 0
  input_peak: float = 0.0

  def __post_init__(self):
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      if field.name == 'pitch_classes':
        continue
      if field.type is int and (not isinstance(value, int) or value < 1):
        raise ConfigError(
            f'WaveNetConfig.{field.name} must be a positive integer, '
            f'got {value!r}.')
    if (isinstance(self.input_peak, bool)
        or not isinstance(self.input_peak, (int, float))
        or not 0.0 <= self.input_peak <= 1.0):
      raise ConfigError(
          f'WaveNetConfig.input_peak must be a number from 0 (audio as it '
          f'is) to 1, got {self.input_peak!r}.')
    if self.pitch_classes not in (0, MIDI_PITCHES):
      raise ConfigError(
          f'pitch_classes must be 0 (no pitch conditioning) or '
          f'{MIDI_PITCHES} (one-hot MIDI pitch), got {self.pitch_classes!r}.')
    if self.encoder_filter_length % 2 != 1:
      raise ConfigError(
          'encoder_filter_length must be odd so the non-causal convolution '
          f'is centred, got {self.encoder_filter_length}.')
    if self.filter_length != 3:
      raise ConfigError(
          'filter_length must be 3: incremental generation keeps the last '
          f'2*dilation inputs of each layer, got {self.filter_length}.')
    if self.quantization_channels != 256:
      raise ConfigError('quantization_channels must be 256 (8-bit mu-law).')
    max_dilation = 2**(max(self.encoder_stages, self.decoder_stages) - 1)
    if self.hop_length % max_dilation:
      raise ConfigError(
          f'hop_length ({self.hop_length}) must be a multiple of the largest '
          f'dilation ({max_dilation}).')

  @property
  def code_width(self):
    """Channels of a code: the bottleneck, then the MIDI pitch if any."""
    return self.bottleneck_width + (1 if self.pitch_classes else 0)

  @property
  def conditioning_width(self):
    """Channels the decoder's cond_map layers read: code + one-hot pitch."""
    return self.bottleneck_width + self.pitch_classes

  @property
  def encoder_dilations(self):
    """Dilation of each encoder layer, e.g. (1, 2, ..., 512, 1, 2, ...)."""
    return tuple(2**(i % self.encoder_stages)
                 for i in range(self.encoder_layers))

  @property
  def decoder_dilations(self):
    """Dilation of each decoder layer."""
    return tuple(2**(i % self.decoder_stages)
                 for i in range(self.decoder_layers))

  @property
  def decoder_receptive_field(self):
    """Number of past samples that influence one decoder output.

    The output at t sees x[t - receptive_field .. t - 1] (6,141 samples for
    h512_bo16): the input is shifted by one, the start convolution spans 2
    samples back and each layer 2 * dilation more.
    """
    span = (self.filter_length - 1) * (1 + sum(self.decoder_dilations))
    return span + 1

  @property
  def encoder_receptive_field(self):
    """Width in samples of the input that one pre-pooling encoder output sees.

    Centred on the output sample: half of (width - 1) on each side.
    """
    half = (self.encoder_filter_length - 1) // 2
    return 2 * half * (1 + sum(self.encoder_dilations)) + 1

  def replace(self, **changes):
    """Returns a copy with some fields changed (validated again)."""
    return dataclasses.replace(self, **changes)

  def to_dict(self):
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, values):
    names = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
      raise ConfigError(f'Unknown WaveNetConfig fields: {", ".join(unknown)}.')
    return cls(**values)


PRESETS = {
    'h512_bo16': WaveNetConfig(name='h512_bo16'),
    'h64_bo16': WaveNetConfig(
        name='h64_bo16', encoder_width=64, encoder_layers=20,
        decoder_width=64, skip_width=64, decoder_layers=20,
        input_peak=NOTE_PEAK),
    'h64_bo16_pitch': WaveNetConfig(
        name='h64_bo16_pitch', encoder_width=64, encoder_layers=20,
        decoder_width=64, skip_width=64, decoder_layers=20,
        pitch_classes=MIDI_PITCHES, input_peak=NOTE_PEAK),
    'tiny': WaveNetConfig(
        name='tiny', encoder_width=8, encoder_layers=4, encoder_stages=4,
        bottleneck_width=4, hop_length=64, decoder_width=8, skip_width=8,
        decoder_layers=6, decoder_stages=3),
}


def get_config(name_or_config):
  """Returns the preset called `name_or_config`, or the config itself."""
  if isinstance(name_or_config, WaveNetConfig):
    return name_or_config
  try:
    return PRESETS[name_or_config]
  except KeyError:
    raise ConfigError(
        f'Unknown preset {name_or_config!r}; choose one of '
        f'{", ".join(sorted(PRESETS))}.') from None
