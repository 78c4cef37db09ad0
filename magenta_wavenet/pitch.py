"""Pitch: pYIN f0 tracks, a note's MIDI pitch, and its one-hot encoding.

A pitch-conditioned model (`WaveNetConfig.pitch_classes` = 128) hears the
note's MIDI pitch beside the code, as in the NSynth paper. In training the
pitch is the dataset's `pitch` feature; when a sound is encoded it is the
median pYIN f0 of its voiced frames, unless the user gives one.
"""

import logging

import numpy as np
import tensorflow as tf

from magenta_wavenet.audio import SAMPLE_RATE
from magenta_wavenet.audio import import_librosa
from magenta_wavenet.errors import CodeError

logger = logging.getLogger(__name__)

PITCH_RANGE_HZ = (32.7, 4186.0)  # C1 to C8
FALLBACK_PITCH = 60  # Middle C, for sounds with no voiced frame.


def f0(audio, sample_rate=SAMPLE_RATE, fmin=PITCH_RANGE_HZ[0],
       fmax=PITCH_RANGE_HZ[1]):
  """librosa's pYIN f0 track of one signal (2,048-sample frames).

  Args:
    audio: float [samples].
    sample_rate: Hz.
    fmin, fmax: Search range in Hz.

  Returns:
    (f0 in Hz [frames] with NaN where unvoiced, voiced flags [frames]).
  """
  frequency, voiced, _ = import_librosa().pyin(
      np.asarray(audio, np.float32), fmin=fmin, fmax=fmax, sr=sample_rate,
      frame_length=2048)
  return frequency, voiced


def hz_to_midi(frequency):
  """MIDI note number (float) of a frequency in Hz: 69 is 440 Hz."""
  return 69.0 + 12.0 * np.log2(np.asarray(frequency, np.float64) / 440.0)


def note_pitch(audio, sample_rate=SAMPLE_RATE, source='audio'):
  """The MIDI pitch of a note: its voiced frames' median f0, rounded.

  Args:
    audio: float [samples] of one note.
    sample_rate: Hz.
    source: Name of the sound in the log line of an unpitched one.

  Returns:
    int in [0, 127]; `FALLBACK_PITCH` when pYIN finds no voiced frame (a
    drum, noise), which is logged.
  """
  frequency, voiced = f0(audio, sample_rate)
  if not np.any(voiced):
    logger.warning('%s: no pitch found; conditioning on MIDI %d.', source,
                   FALLBACK_PITCH)
    return FALLBACK_PITCH
  return int(np.clip(np.round(hz_to_midi(np.median(frequency[voiced]))),
                     0, 127))


def check_pitch(pitch, batch):
  """MIDI pitch per clip from one number or one per clip.

  Args:
    pitch: A number or [batch] numbers (MIDI, may be fractional).
    batch: Clips in the code.

  Returns:
    float32 numpy array [batch].

  Raises:
    CodeError: for a pitch outside [0, 127] or a count other than batch.
  """
  pitch = np.asarray(pitch, np.float32).reshape(-1)
  if pitch.size == 1:
    pitch = np.repeat(pitch, batch)
  if pitch.size != batch or np.any(~np.isfinite(pitch)) or np.any(
      (pitch < 0) | (pitch > 127)):
    raise CodeError(f'pitch must be one MIDI number in [0, 127] or one per '
                    f'clip ({batch}), got {pitch.tolist()}.')
  return pitch


def append_pitch(code, pitch):
  """The code with each clip's MIDI pitch appended as a channel.

  Args:
    code: float32 [batch, frames, bottleneck_width] learned channels.
    pitch: [batch] MIDI pitches (any numeric dtype).

  Returns:
    float32 tensor [batch, frames, bottleneck_width + 1].
  """
  pitch = tf.cast(pitch, tf.float32)[:, tf.newaxis, tf.newaxis]
  return tf.concat([code, tf.ones_like(code[..., :1]) * pitch], axis=-1)


def soft_one_hot(pitch, classes):
  """One-hot of MIDI pitch, linear between neighbours for fractional ones.

  An integer pitch gives the exact one-hot vector; 60.25 gives 0.75 at 60
  and 0.25 at 61, so a mix of two codes moves between their pitches.

  Args:
    pitch: float tensor [...], clipped to [0, classes - 1].
    classes: Length of the one-hot axis (128).

  Returns:
    float32 tensor [..., classes].
  """
  pitch = tf.clip_by_value(tf.cast(pitch, tf.float32), 0.0, classes - 1.0)
  low = tf.floor(pitch)
  upper_weight = pitch - low
  low_index = tf.cast(low, tf.int32)
  high_index = tf.minimum(low_index + 1, classes - 1)
  upper_weight = tf.expand_dims(upper_weight, -1)  # LiteRT has no [..., None]
  return (tf.one_hot(low_index, classes) * (1.0 - upper_weight)
          + tf.one_hot(high_index, classes) * upper_weight)
