"""Pitch: pYIN f0 tracks, a note's MIDI pitch, and its one-hot encoding.

A pitch-conditioned model (`WaveNetConfig.pitch_classes` = 128) hears the
note's MIDI pitch beside the code, as in the NSynth paper. In training the
pitch is the dataset's `pitch` feature; when a sound is encoded it is the
median pYIN f0 of its voiced frames (`note_pitches`), unless the user gives
one. That pYIN is `estimate_pitch`'s TensorFlow ops, which a SavedModel's
`encode` runs without librosa too; `f0` is librosa's own, for f0 tracks.
"""

import functools
import logging

import numpy as np
import tensorflow as tf

from magenta_wavenet.errors import CodeError
from magenta_wavenet.sound.audio import SAMPLE_RATE
from magenta_wavenet.sound.audio import import_librosa

logger = logging.getLogger(__name__)

PITCH_RANGE_HZ = (32.7, 4186.0)  # C1 to C8
FALLBACK_PITCH = 60  # Middle C, for sounds with no voiced frame.
MIDI_KEYS = 128  # MIDI note numbers 0..127
FRAME_LENGTH = 2048  # Samples per f0 frame; frames start every quarter.
# The rest of librosa.pyin's defaults, which `estimate_pitch` follows.
_BINS_PER_SEMITONE = 10  # its f0 grid: tenths of a semitone above fmin
_THRESHOLDS = np.linspace(0.0, 1.0, 101)  # for the troughs of d'
# Their Beta(2, 18) prior: its CDF is 1 - (1 - x)^18 (1 + 18 x).
_THRESHOLD_PROBS = np.diff(1.0 - (1.0 - _THRESHOLDS)**18
                           * (1.0 + 18.0 * _THRESHOLDS))
_BOLTZMANN = 2.0  # prior over the troughs below a threshold, by rank
_NO_TROUGH_PROB = 0.01
_SWITCH_PROB = 0.01  # voiced to unvoiced or back, per frame
_MAX_TRANSITION_RATE = 35.92  # octaves per second
_TINY = np.finfo(np.float64).tiny


def f0(audio, sample_rate=SAMPLE_RATE, fmin=PITCH_RANGE_HZ[0],
       fmax=PITCH_RANGE_HZ[1]):
  """librosa's pYIN f0 track of one signal (`FRAME_LENGTH` frames).

  Args:
    audio: float [samples].
    sample_rate: Hz.
    fmin, fmax: Search range in Hz.

  Returns:
    (f0 in Hz [frames] with NaN where unvoiced, voiced flags [frames]).
  """
  frequency, voiced, _ = import_librosa().pyin(
      np.asarray(audio, np.float32), fmin=fmin, fmax=fmax, sr=sample_rate,
      frame_length=FRAME_LENGTH)
  return frequency, voiced


def hz_to_midi(frequency):
  """MIDI note numbers of frequencies in Hz: 69 is 440 Hz.

  Args:
    frequency: A number or array, or a tensor (also in a graph).

  Returns:
    float64 of the same shape: a numpy value, or a tensor for a tensor.
  """
  midi = 69.0 + 12.0 * tf.math.log(
      tf.cast(frequency, tf.float64) / 440.0) / np.log(2.0)
  return midi if tf.is_tensor(frequency) else midi.numpy()


def note_pitches(audio, sample_rate=SAMPLE_RATE, sources=None):
  """The MIDI pitch of each note: its voiced frames' median f0, rounded.

  The f0 track is librosa's pYIN (`f0`), computed by `estimate_pitch`'s
  TensorFlow ops in a compiled graph, for the whole batch at once: the
  same MIDI pitch as librosa's on every pitched note of 153 recorded ones
  (organ pipes, LMMS instruments, NSynth notes; `_difference` says where
  they part), 8x faster than librosa once the graph is traced (0.15
  against 1.27 s for 4 s of audio on the 2-core Zen 3 machine; tracing
  takes about 1.5 s, once), and the same graph a SavedModel's `encode` runs.

  Args:
    audio: float [batch, samples], one note a row.
    sample_rate: Hz.
    sources: Names of the notes in the log line of an unpitched one;
      default 'audio'.

  Returns:
    List of [batch] ints in [0, 127]; `FALLBACK_PITCH` where pYIN finds no
    voiced frame (a drum, noise), which is logged.
  """
  midi, voiced = _compiled(_median_midi, sample_rate)(
      np.asarray(audio, np.float32))
  pitches = []
  for row, (pitch, has_pitch) in enumerate(zip(midi.numpy(),
                                               voiced.numpy())):
    if not has_pitch:
      logger.warning('%s: no pitch found; conditioning on MIDI %d.',
                     sources[row] if sources else 'audio', FALLBACK_PITCH)
    pitches.append(int(pitch) if has_pitch else FALLBACK_PITCH)
  return pitches


def note_pitch(audio, sample_rate=SAMPLE_RATE, source='audio'):
  """`note_pitches` of one note, float [samples]; an int."""
  return note_pitches(np.asarray(audio)[np.newaxis], sample_rate,
                      [source])[0]


def shift_pitch(audio, semitones, sample_rate=SAMPLE_RATE):
  """Audio moved by `semitones` at its own length, as a sampler's key does.

  librosa's `effects.pitch_shift` (a phase-vocoder stretch, then
  resampling); the audio itself for 0.

  Args:
    audio: float [samples].
    semitones: The move; fractions fall between semitones.
    sample_rate: Hz.

  Returns:
    float32 [samples].
  """
  audio = np.asarray(audio, np.float32)
  if semitones == 0:
    return audio
  return import_librosa().effects.pitch_shift(
      audio, sr=sample_rate, n_steps=float(semitones)).astype(np.float32)


def _difference(frames, min_period, max_period):
  """YIN's cumulative mean normalized difference, as pYIN defines it.

  d(k) = 2 (r(0) - r(k)) - sum_{m<k} x_m^2, r the autocorrelation of the
  whole frame (by FFT); d'(k) = d(k) / mean(d(1), ..., d(k)). librosa
  0.11.0 leaves x_0^2 out of d(1), against its own comment, which makes its
  d' too low at short lags; this follows the formula (within 1.2e-4 of it
  in float64, where librosa was off by up to 0.83 on a snare). That moves
  the MIDI pitch only of near-unvoiced clips: 2 of 315 recorded samples
  (an LMMS snare and a single wave cycle), none of them a pitched note.

  Args:
    frames: float32 [batch, frames, FRAME_LENGTH].
    min_period, max_period: Shortest and longest lag in samples.

  Returns:
    float32 [batch, frames, lags]: d' at lags min_period..max_period.
  """
  spectrum = tf.signal.rfft(frames, fft_length=[2 * FRAME_LENGTH])
  power = tf.cast(tf.math.real(spectrum * tf.math.conj(spectrum)),
                  tf.complex64)
  acf = tf.signal.irfft(power, fft_length=[2 * FRAME_LENGTH])
  energy = tf.cumsum(tf.square(frames[..., :max_period]), axis=-1)
  difference = 2.0 * (acf[..., :1] - acf[..., 1:max_period + 1]) - energy
  mean = tf.cumsum(difference, axis=-1) / tf.range(1.0, max_period + 1.0)
  return difference[..., min_period - 1:] / (
      mean[..., min_period - 1:] + np.finfo(np.float32).tiny)


def _trough_probabilities(d):
  """pYIN's probability of each lag being the period, before decoding.

  Each of `_THRESHOLDS` (weighted by its Beta prior) spreads its mass over
  the troughs of d' below it, earlier ones first (a Boltzmann prior); the
  lowest trough also gets `_NO_TROUGH_PROB` of the thresholds below it.

  Args:
    d: float32 [batch, frames, lags] from `_difference`.

  Returns:
    float64 [batch, frames, lags], non-zero only at troughs.
  """
  d = tf.cast(d, tf.float64)
  before, here, after = d[..., :-2], d[..., 1:-1], d[..., 2:]
  # librosa.util.localmin, each end compared with its one neighbour.
  trough = tf.concat([d[..., :1] < d[..., 1:2],
                      (here < before) & (here <= after),
                      d[..., -1:] < d[..., -2:-1]], axis=-1)
  heights = tf.where(trough, d, np.inf)
  decay = 1.0 - np.exp(-_BOLTZMANN)

  def add_threshold(index, probs):
    below = heights < tf.gather(_THRESHOLDS[1:], index)
    rank = tf.cumsum(tf.cast(below, tf.float64), axis=-1) - 1.0
    count = tf.maximum(rank[..., -1:] + 1.0, 1.0)
    prior = decay * tf.exp(-_BOLTZMANN * rank) / (
        1.0 - tf.exp(-_BOLTZMANN * count))
    weight = tf.gather(_THRESHOLD_PROBS, index)
    return index + 1, probs + tf.where(below, weight * prior, 0.0)

  _, probs = tf.while_loop(
      lambda index, _: index < len(_THRESHOLD_PROBS), add_threshold,
      (0, tf.zeros_like(d)))
  lowest = tf.reduce_min(heights, axis=-1, keepdims=True)
  missed = _NO_TROUGH_PROB * tf.reduce_sum(
      tf.where(lowest >= _THRESHOLDS[1:], _THRESHOLD_PROBS, 0.0), axis=-1)
  at_lowest = tf.one_hot(tf.argmin(heights, axis=-1), tf.shape(d)[-1],
                         dtype=tf.float64)
  return probs + tf.where(tf.math.is_finite(lowest), at_lowest, 0.0) * (
      missed[..., tf.newaxis])


def _parabolic_shifts(d):
  """Where the parabola through each point of d' and its two neighbours
  has its vertex, in lags from the point: float32 [batch, frames, lags]
  as `d`; 0 at the ends and where the vertex is past a neighbour."""
  before, here, after = d[..., :-2], d[..., 1:-1], d[..., 2:]
  curve = after + before - 2.0 * here
  slope = (after - before) / 2.0
  shift = tf.where(tf.abs(slope) < tf.abs(curve),
                   -slope / tf.where(curve == 0.0, 1.0, curve), 0.0)
  return tf.pad(shift, [[0, 0], [0, 0], [1, 1]])


def _bin_probabilities(probs, d, sample_rate, min_period, fmin, bins):
  """The trough probabilities moved to pYIN's pitch bins.

  Lag k gives f0 = sample_rate / (k + parabolic shift), in bin
  round(12 _BINS_PER_SEMITONE log2(f0 / fmin)); where several lags fall in
  one bin it takes the longest one's probability, as librosa's does.

  Args:
    probs: float64 [batch, frames, lags] from `_trough_probabilities`.
    d: float32 [batch, frames, lags] from `_difference`.
    sample_rate: Hz.
    min_period: The first lag, in samples.
    fmin: Hz of bin 0.
    bins: Pitch bins; higher f0 are dropped.

  Returns:
    float64 [batch, frames, bins].
  """
  lags = tf.shape(d)[-1]
  lag = tf.range(lags)
  period = tf.cast(min_period + lag, tf.float64) + tf.cast(
      _parabolic_shifts(d), tf.float64)
  steps = 12.0 * _BINS_PER_SEMITONE
  where_bin = tf.cast(tf.clip_by_value(tf.round(
      steps * tf.math.log(sample_rate / period / fmin) / np.log(2.0)),
                                       0.0, float(bins)), tf.int32)
  # One segment per frame and bin; bin `bins`, above fmax, is dropped.
  frame_index = tf.reshape(tf.range(tf.size(d) // lags), tf.shape(d)[:-1])
  segment = frame_index[..., tf.newaxis] * (bins + 1) + where_bin
  count = tf.size(d) // lags * (bins + 1)
  candidate = probs > 0.0
  longest = tf.math.unsorted_segment_max(tf.where(candidate, lag, -1),
                                         segment, count)
  kept = candidate & (lag == tf.gather(longest, segment))
  binned = tf.math.unsorted_segment_sum(tf.where(kept, probs, 0.0), segment,
                                        count)
  return tf.reshape(binned, tf.concat([tf.shape(d)[:-1], [bins + 1]],
                                      axis=0))[..., :bins]


def _viterbi(voiced_probs, bins, frames_per_second):
  """pYIN's decoding: the most likely path through (voicing, pitch bin).

  A voiced state at bin b emits with the bin's probability, an unvoiced one
  with (1 - the frame's voiced probability) / bins; the voicing changes
  with `_SWITCH_PROB` per frame, and the bin by a triangular step of at
  most `_MAX_TRANSITION_RATE` octaves per second. As in
  librosa.sequence.viterbi, each probability has the smallest float64
  added before its log, and ties go to the lowest state.

  Args:
    voiced_probs: float64 [batch, frames, bins].
    bins: Pitch bins.
    frames_per_second: Frame rate.

  Returns:
    int32 [batch, frames]: the bin of each voiced frame, bins + its bin for
    an unvoiced one.
  """
  voiced = tf.clip_by_value(tf.reduce_sum(voiced_probs, axis=-1), 0.0, 1.0)
  unvoiced = tf.repeat(((1.0 - voiced) / bins)[..., tf.newaxis], bins, -1)
  log_obs = tf.math.log(tf.stack([voiced_probs, unvoiced], axis=2)
                        + _TINY)  # [batch, frames, 2, bins]
  half = round(_MAX_TRANSITION_RATE * 12 / frames_per_second) * (
      _BINS_PER_SEMITONE) // 2  # bins up or down per frame
  triangle = (half + 1.0 - np.abs(np.arange(-half, half + 1))) / (half + 1.0)
  # P(b -> b') = triangle[b' - b + half] / row_sum[b]: the band of bin b is
  # cut at the ends, then normalized.
  row_sum = np.convolve(np.ones(bins), triangle, mode='same')
  switch = np.array([[1.0 - _SWITCH_PROB, _SWITCH_PROB],
                     [_SWITCH_PROB, 1.0 - _SWITCH_PROB]])
  band = np.repeat(np.log(triangle)[np.newaxis, :, np.newaxis], 2, axis=-1)

  def forward(value, log_ob):
    """Best log probability of each state [batch, 2, bins] one frame on."""
    source = tf.transpose(value - np.log(row_sum), [0, 2, 1])[:, tf.newaxis]
    source = tf.pad(source, [[0, 0], [0, 0], [half, half], [0, 0]],
                    constant_values=-np.inf)
    # Max-plus convolution with the band: [batch, 2 (from), bins (to)].
    banded = tf.transpose(tf.nn.dilation2d(
        source, band, [1, 1, 1, 1], 'VALID', 'NHWC', [1, 1, 1, 1])[:, 0],
                          [0, 2, 1])
    best = tf.reduce_max(banded[:, :, tf.newaxis]
                         + np.log(switch)[:, :, np.newaxis], axis=1)
    # Out of the band the transition probability is the smallest float64.
    anywhere = tf.reduce_max(value, axis=[1, 2], keepdims=True) + np.log(
        _TINY)
    return tf.maximum(best, anywhere) + log_ob

  def backward(state, value):
    """The state [batch] before `state`, from that frame's `value`."""
    to_voicing, to_bin = state // bins, state % bins
    step = to_bin[:, tf.newaxis] - tf.range(bins)
    local = tf.where(tf.abs(step) <= half, tf.gather(
        triangle, tf.clip_by_value(step + half, 0, 2 * half)) / row_sum, 0.0)
    transition = tf.gather(switch, to_voicing, axis=1)  # [2 (from), batch]
    log_transition = tf.math.log(tf.transpose(transition)[..., tf.newaxis]
                                 * local[:, tf.newaxis] + _TINY)
    return tf.argmax(tf.reshape(value + log_transition, [-1, 2 * bins]),
                     axis=-1, output_type=tf.int32)

  log_obs = tf.transpose(log_obs, [1, 0, 2, 3])
  start = log_obs[0] - np.log(2.0 * bins)  # uniform over the states
  values = tf.concat([start[tf.newaxis],
                      tf.scan(forward, log_obs[1:], start)], axis=0)
  final = tf.argmax(tf.reshape(values[-1], [-1, 2 * bins]), axis=-1,
                    output_type=tf.int32)
  earlier = tf.scan(backward, values[:-1], final, reverse=True)
  path = tf.concat([earlier, final[tf.newaxis]], axis=0)  # [frames, batch]
  # oneDNN's transpose takes no integers: it logs an error line on every
  # run and falls back. As float32 (exact below 2**24 states) it does not.
  return tf.cast(tf.transpose(tf.cast(path, tf.float32)), tf.int32)


def estimate_pitch(audio, sample_rate=SAMPLE_RATE, fmin=PITCH_RANGE_HZ[0],
                   fmax=PITCH_RANGE_HZ[1]):
  """`note_pitches` in TensorFlow ops only, for graphs without librosa.

  librosa's pYIN with `f0`'s settings, step by step: centred frames of
  `FRAME_LENGTH` samples every quarter frame, YIN's difference function,
  the trough probabilities over thresholds, pitch bins of 1/10 semitone
  above fmin and Viterbi decoding of voicing and bin; then the median f0
  of the voiced frames in MIDI, rounded.

  Args:
    audio: float32 tensor [batch, samples], any length.
    sample_rate: Hz.
    fmin, fmax: Search range in Hz.

  Returns:
    float32 tensor [batch]: whole MIDI numbers in [0, 127];
    `FALLBACK_PITCH` for a clip with no voiced frame.
  """
  midi, voiced = _median_midi(audio, sample_rate, fmin, fmax)
  return tf.where(voiced, midi, float(FALLBACK_PITCH))


def _median_midi(audio, sample_rate=SAMPLE_RATE, fmin=PITCH_RANGE_HZ[0],
                 fmax=PITCH_RANGE_HZ[1]):
  """`estimate_pitch` before the fallback.

  A clip shorter than a quarter frame (512 samples, under one hop of every
  model) is padded with zeros to it, so that its track has the two frames
  the decoding needs.

  Returns:
    (float32 [batch] whole MIDI numbers in [0, 127], meaningless where
    unvoiced; bool [batch], whether a clip has a voiced frame).
  """
  hz, voiced = _track(audio, sample_rate, fmin, fmax)
  # numpy's median: the middle one, or the middle two averaged.
  ordered = tf.sort(tf.where(voiced, hz, np.inf), axis=-1)
  count = tf.reduce_sum(tf.cast(voiced, tf.int32), axis=-1)
  middle = tf.stack([tf.maximum(count - 1, 0) // 2, count // 2], axis=-1)
  median = tf.reduce_mean(tf.gather(ordered, middle, batch_dims=1), axis=-1)
  midi = tf.clip_by_value(tf.round(hz_to_midi(median)), 0.0, MIDI_KEYS - 1.0)
  return tf.cast(midi, tf.float32), count > 0


def _track(audio, sample_rate=SAMPLE_RATE, fmin=PITCH_RANGE_HZ[0],
           fmax=PITCH_RANGE_HZ[1]):
  """pYIN's f0 track in TensorFlow ops, `f0`'s frames.

  Args:
    audio: float32 [batch, samples]; a clip shorter than a quarter frame is
      padded with zeros to it.

  Returns:
    (float64 [batch, frames] f0 in Hz on pYIN's 1/10-semitone grid,
    meaningless where unvoiced; bool [batch, frames], voiced).
  """
  audio = tf.convert_to_tensor(audio, tf.float32)
  hop = FRAME_LENGTH // 4
  audio = tf.pad(audio, [[0, 0], [0, tf.maximum(hop - tf.shape(audio)[1],
                                                 0)]])
  frames = tf.signal.frame(
      tf.pad(audio, [[0, 0], [FRAME_LENGTH // 2, FRAME_LENGTH // 2]]),
      FRAME_LENGTH, hop)
  min_period = int(np.floor(sample_rate / fmax))
  max_period = min(int(np.ceil(sample_rate / fmin)), FRAME_LENGTH - 1)
  bins = int(np.floor(12 * _BINS_PER_SEMITONE * np.log2(fmax / fmin))) + 1
  d = _difference(frames, min_period, max_period)
  states = _viterbi(_bin_probabilities(_trough_probabilities(d), d,
                                       sample_rate, min_period, fmin, bins),
                    bins, sample_rate / hop)
  hz = fmin * tf.pow(tf.constant(2.0, tf.float64),
                     tf.cast(states % bins, tf.float64)
                     / (12.0 * _BINS_PER_SEMITONE))
  return hz, states < bins


@functools.lru_cache(maxsize=None)
def _compiled(function, sample_rate):
  """`function` (`_median_midi` or `_track`) at `sample_rate` Hz as a
  graph traced once for every batch and length."""
  return tf.function(functools.partial(function, sample_rate=sample_rate),
                     input_signature=[tf.TensorSpec([None, None],
                                                     tf.float32)])


def fast_f0(audio, sample_rate=SAMPLE_RATE):
  """`f0`'s track by `estimate_pitch`'s TensorFlow ops in a compiled graph.

  The same pYIN, frames and 1/10-semitone f0 grid as librosa's, several
  times faster once traced (the first call per process traces it, about
  1.5 s); where the two part is where `note_pitches` says.

  Args:
    audio: float [samples] of one clip, at least a quarter frame (512
      samples).
    sample_rate: Hz.

  Returns:
    (f0 in Hz [1 + samples // (FRAME_LENGTH // 4)] with NaN where unvoiced,
    voiced flags of that length), as `f0` returns them.
  """
  hz, voiced = _compiled(_track, sample_rate)(
      np.asarray(audio, np.float32)[np.newaxis])
  voiced = voiced.numpy()[0]
  return np.where(voiced, hz.numpy()[0], np.nan), voiced


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
      (pitch < 0) | (pitch > MIDI_KEYS - 1)):
    raise CodeError(f'pitch must be one MIDI number in [0, 127] or one per '
                    f'clip ({batch}), got {pitch.tolist()}.')
  return pitch


def check_model_pitch(config, pitch, batch=1):
  """`check_pitch` for the model of `config`; None stays None.

  Args:
    config: The model's `WaveNetConfig`.
    pitch: None, one MIDI number, or one per clip.
    batch: Clips.

  Returns:
    None, or float32 numpy array [batch].

  Raises:
    CodeError: for a pitch given to a model that is not pitch-conditioned,
      and those of `check_pitch`.
  """
  if pitch is None:
    return None
  if not config.pitch_classes:
    raise CodeError(f'the {config.name} model is not pitch-conditioned; it '
                    'takes no pitch.')
  return check_pitch(pitch, batch)


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
