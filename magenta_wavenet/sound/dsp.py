"""Signal maths of NSynth: 8-bit mu-law, trimming to whole code frames and
the level a model hears (offset taken out, quiet clips raised).

Pure functions, no Keras. The mu-law functions take numpy arrays or tensors
and run the same float32 TensorFlow ops, in the same order, as the reference
implementation, so the integers agree bit for bit.
"""

import numpy as np
import tensorflow as tf

MU = 255
_LOG_1_PLUS_MU = np.log(1.0 + MU)  # float64, cast to float32 like the reference
NOTE_PEAK = 0.9  # Peak of the notes `make_dataset` renders (NSynth's: full)
SILENT_PEAK = 1e-4  # Audio with a lower peak is silence: never scaled up
DC_PARTS = 8  # Parts whose median mean is a clip's offset (`dc_offset`)


def mu_law_encode(audio):
  """Quantizes audio to 8-bit mu-law integers.

  `q = floor(sign(x) * ln(1 + 255 |x|) / ln(256) * 128)`. The reference maps
  |x| = 1.0 to 128, which is not an 8-bit value; here it is clipped to 127,
  the only input where the two differ.

  Args:
    audio: Float samples in [-1, 1], any shape.

  Returns:
    int32 tensor of the same shape, values in [-128, 127].
  """
  x = tf.convert_to_tensor(audio, tf.float32)
  companded = tf.sign(x) * tf.math.log(1.0 + MU * tf.abs(x)) / tf.constant(
      _LOG_1_PLUS_MU, tf.float32)
  quantized = tf.floor(companded * 128.0)
  return tf.cast(tf.clip_by_value(quantized, -128.0, 127.0), tf.int32)


def mu_law_decode(quantized):
  """Inverse of `mu_law_encode`: integers in [-128, 127] to floats in [-1, 1].

  `y = (q + 0.5) * 2 / 256; x = sign(y) / 255 * (256^|y| - 1)`, and q = 0
  maps to exactly 0 as in the reference.

  Args:
    quantized: Integer (or integer-valued float) mu-law codes, any shape.

  Returns:
    float32 tensor of the same shape.
  """
  q = tf.cast(quantized, tf.float32)
  y = (q + 0.5) * 2.0 / (MU + 1)
  x = tf.sign(y) / MU * (tf.pow(float(MU + 1), tf.abs(y)) - 1.0)
  return tf.where(tf.equal(q, 0.0), q, x)


def to_network_input(quantized):
  """Mu-law integers to the decoder's float input, `q / 128`, in [-1, 1)."""
  return tf.cast(quantized, tf.float32) / 128.0


def to_class(quantized):
  """Mu-law integers to class labels `q + 128` in [0, 255], int32."""
  return tf.cast(quantized, tf.int32) + 128


def from_class(label):
  """Class labels in [0, 255] back to mu-law integers in [-128, 127]."""
  return tf.cast(label, tf.int32) - 128


def trimmed_length(num_samples, hop_length, sample_length=None):
  """Length the reference encodes: whole hops, at most `sample_length`.

  40,000 samples with hop 512 give 39,936 (78 frames). `num_samples` may be
  a scalar tensor (e.g. `tf.shape(audio)[1]` inside a graph).
  """
  if sample_length is not None:
    num_samples = min(num_samples, sample_length)
  return (num_samples // hop_length) * hop_length


def trim_for_encoding(audio, hop_length, sample_length=None):
  """Cuts audio to a whole number of hops, as the reference does.

  Args:
    audio: numpy array [samples] or [batch, samples].
    hop_length: Samples per code frame (512).
    sample_length: Optional maximum length in samples.

  Returns:
    The audio cut to `trimmed_length(...)` samples along its last axis.
  """
  audio = np.asarray(audio)
  length = trimmed_length(audio.shape[-1], hop_length, sample_length)
  return audio[..., :length]


def level_gain(audio, peak):
  """The factor that raises quieter audio to a peak of `peak`.

  A model hears sounds best at the level of its training notes: the shipped
  models' pitch and spectra fall apart below a peak of about 0.1 (see
  `WaveNetConfig.input_peak`). Audio whose peak is `peak` or more, or
  below `SILENT_PEAK` (silence, whose noise must not be raised), keeps its
  level: the factor is 1, and 1 for every clip when `peak` is 0. Float32
  TensorFlow ops, so that a SavedModel's graph raises audio as the library
  does.

  Args:
    audio: float array or tensor [samples] or [batch, samples].
    peak: The peak quieter audio is raised to, in (0, 1]; 0 for none.

  Returns:
    float32 tensor, scalar for [samples] or [batch] for [batch, samples]:
    each clip's factor, >= 1.
  """
  loudest = tf.reduce_max(tf.abs(tf.cast(audio, tf.float32)), axis=-1)
  quiet = (loudest < peak) & (loudest >= SILENT_PEAK)
  return tf.where(quiet, peak / tf.maximum(loudest, SILENT_PEAK), 1.0)


def dc_offset(audio):
  """Each clip's constant offset (DC): the median of the means of
  `DC_PARTS` equal parts of it, when every part leans that way; else 0.

  Not the clip's mean: a plucked note's first moments can be lopsided (the
  LMMS pizzicato violin's first second has a mean of -2% of its peak) and
  then decay to silence, which taking the mean out would leave offset. A
  constant offset is in every part; a waveform's own lean wanders from part
  to part (the LMMS piano's parts lean both ways by up to 0.5% of its peak,
  and taking their median out cost its quiet end 0.35 bits a sample).

  Args:
    audio: float array or tensor [samples] or [batch, samples].

  Returns:
    float32 tensor, scalar or [batch].
  """
  audio = tf.cast(audio, tf.float64)  # sums of up to minutes of samples
  samples = tf.shape(audio)[-1]
  bounds = tf.range(DC_PARTS + 1) * samples // DC_PARTS
  sums = tf.gather(tf.concat([tf.zeros_like(audio[..., :1]),
                              tf.cumsum(audio, axis=-1)], axis=-1),
                   bounds, axis=-1)
  means = (sums[..., 1:] - sums[..., :-1]) / tf.cast(
      tf.maximum(bounds[1:] - bounds[:-1], 1), tf.float64)
  ordered = tf.sort(means, axis=-1)
  middle = DC_PARTS // 2
  median = (ordered[..., middle - 1] + ordered[..., middle]) / 2
  leans = (ordered[..., 0] > 0) | (ordered[..., -1] < 0)
  return tf.cast(tf.where(leans, median, 0.0), tf.float32)


def to_level(audio, peak):
  """Audio as a model trained on notes at a peak of `peak` hears it best.

  With `peak` > 0 each clip's constant offset is taken out (`dc_offset`:
  the shipped model kept the pitch of the real NSynth notes, peaking at
  0.64, on 78% of their frames, on 58% with an offset of 0.02) and a clip
  quieter than `peak` is raised to it (`level_gain`). With `peak` 0 the
  audio is as it was.

  Args:
    audio: float array or tensor [samples] or [batch, samples].
    peak: The model's `input_peak`, in [0, 1].

  Returns:
    (float32 tensor shaped like `audio`, the gain: float32 tensor, scalar
    or [batch], by which each clip was raised once its offset was out).
  """
  audio = tf.cast(audio, tf.float32)
  if not peak:
    return audio, tf.ones(tf.shape(audio)[:-1])
  centred = audio - dc_offset(audio)[..., tf.newaxis]
  gain = level_gain(centred, peak)
  return centred * gain[..., tf.newaxis], gain
