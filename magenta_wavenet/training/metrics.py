"""Resynthesis quality measures: NLL in bits, STFT distance, pitch accuracy,
and three of timbre: instrument identification at one pitch, the
harmonic-to-noise ratio, and whether a note plays another partial than its
pitch.

Pure functions of numpy arrays (and the model, for the NLL); no training
state. The spectral measures read pYIN's frames (`pitch.f0`: FRAME_LENGTH
samples every quarter frame, centred), so that frame i of a spectrum and of
an f0 track are the same samples.
"""

import fractions

import numpy as np
import tensorflow as tf

from magenta_wavenet.model.autoencoder import cross_entropy
from magenta_wavenet.sound.audio import SAMPLE_RATE
from magenta_wavenet.sound.audio import import_librosa
from magenta_wavenet.sound.harmonics import HARMONIC_BAND
from magenta_wavenet.sound.harmonics import frame_hnr_db
from magenta_wavenet.sound.pitch import FRAME_LENGTH
from magenta_wavenet.sound.pitch import f0
from magenta_wavenet.sound.pitch import hz_to_midi

STFT_SIZES = (2048, 1024, 512, 256, 128, 64)
CENTS_TOLERANCE = 50.0
MEL_BANDS = 64
MEL_RANGE_HZ = (40.0, 7600.0)
LOUD_FRAME_DB = 20.0  # Frames within this of the loudest make the profile.
PROFILE_FLOOR_DB = 40.0  # Bands this far below the loudest are floored.
# The partials a note locked to a wrong one plays, as ratios to its pitch:
# harmonics, subharmonics, and harmonics of the octave below.
PARTIAL_RATIOS = tuple(fractions.Fraction(ratio) for ratio in (
    '1/4', '1/3', '1/2', '3/2', '2', '5/2', '3', '4', '5', '6'))
ON_PITCH = '1'
OTHER_PITCH = 'other'
UNVOICED = 'unvoiced'
MIN_HNR_DB = 0.0  # A note whose HNR at its own f0 is below has no pitch.


def nll_bits(model, audio, codes=None):
  """Teacher-forced negative log-likelihood per sample, in bits.

  Args:
    model: An `NSynthAutoencoder`.
    audio: float32 [batch, samples], samples a multiple of the hop.
    codes: Their codes [batch, frames, code_width]; by default
      `model.encode(audio)`.

  Returns:
    float64 numpy array [batch]: mean over samples of -log2 p(x_t | x_<t,
    code), the reference's loss divided by ln 2.
  """
  audio = tf.convert_to_tensor(audio, tf.float32)
  codes = model.encode(audio) if codes is None else codes
  nats = cross_entropy(model.decoder_logits(audio, codes), audio)
  return tf.reduce_mean(nats, axis=1).numpy().astype(np.float64) / np.log(2.0)


def _magnitudes(audio, size):
  stft = tf.signal.stft(tf.convert_to_tensor(audio, tf.float32), size,
                        size // 4, size, pad_end=True)
  return tf.abs(stft).numpy().astype(np.float64)


def stft_distance(reference, estimate, sizes=STFT_SIZES, eps=1e-5):
  """Multi-resolution STFT distance, lower is better (0 for equal signals).

  For each FFT size n (hop n/4, Hann window) the spectral convergence
  `||S_ref - S_est||_F / ||S_ref||_F` plus the mean absolute difference of
  log magnitudes `|ln(S_ref + eps) - ln(S_est + eps)|`; averaged over sizes.

  Args:
    reference, estimate: float [batch, samples] audio of the same shape.
    sizes: FFT sizes in samples.
    eps: Floor of the magnitudes before the logarithm.

  Returns:
    float64 numpy array [batch].
  """
  reference = np.asarray(reference, np.float32)
  estimate = np.asarray(estimate, np.float32)
  if reference.shape != estimate.shape or reference.ndim != 2:
    raise ValueError(f'expected two [batch, samples] arrays of one shape, got '
                     f'{reference.shape} and {estimate.shape}.')
  total = np.zeros(reference.shape[0])
  for size in sizes:
    ref, est = _magnitudes(reference, size), _magnitudes(estimate, size)
    convergence = np.sqrt(np.sum((ref - est)**2, axis=(1, 2))) / np.maximum(
        np.sqrt(np.sum(ref**2, axis=(1, 2))), eps)
    log_distance = np.mean(np.abs(np.log(ref + eps) - np.log(est + eps)),
                           axis=(1, 2))
    total += convergence + log_distance
  return total / len(sizes)


def pitch_accuracy(reference, estimate, sample_rate=SAMPLE_RATE,
                   tolerance_cents=CENTS_TOLERANCE, reference_track=None,
                   estimate_track=None):
  """Share of the reference's voiced frames whose pitch the estimate keeps.

  A frame counts as correct when pYIN finds the estimate voiced there too
  and its f0 is within `tolerance_cents` of the reference's.

  Args:
    reference, estimate: float [samples] audio of one note.
    sample_rate: Hz.
    tolerance_cents: Largest accepted pitch error (50 cents = a quarter
      tone).
    reference_track: The reference's `pitch.f0` (f0, voiced), when it is
      already known (several estimates of one reference); else computed.
    estimate_track: The estimate's `pitch.f0`, when already known; else
      computed.

  Returns:
    Fraction in [0, 1], or NaN when the reference has no voiced frame.
  """
  if reference_track is None:
    reference_track = f0(reference, sample_rate)
  f_ref, voiced_ref = reference_track
  if estimate_track is None:
    estimate_track = f0(estimate, sample_rate)
  f_est, voiced_est = estimate_track
  if not np.any(voiced_ref):
    return float('nan')
  both = voiced_ref & voiced_est
  cents = np.full(f_ref.shape, np.inf)
  cents[both] = np.abs(1200.0 * np.log2(f_est[both] / f_ref[both]))
  return float(np.mean(cents[voiced_ref] <= tolerance_cents))


def _frame_power(audio, fft_length):
  """Power spectra of pYIN's frames of one signal.

  Args:
    audio: float [samples].
    fft_length: FFT size, >= FRAME_LENGTH (the Hann-windowed frame is
      zero-padded to it).

  Returns:
    float64 [1 + samples // (FRAME_LENGTH // 4), fft_length // 2 + 1]:
    frame i is centred on sample i * FRAME_LENGTH // 4 (zeros outside the
    signal), as `pitch.f0`'s frame i.
  """
  half = FRAME_LENGTH // 2
  padded = np.pad(np.asarray(audio, np.float64), half)
  frames = np.lib.stride_tricks.sliding_window_view(
      padded, FRAME_LENGTH)[::FRAME_LENGTH // 4]
  spectrum = np.fft.rfft(frames * np.hanning(FRAME_LENGTH), n=fft_length)
  return np.abs(spectrum)**2


def timbre_profile(audio, sample_rate=SAMPLE_RATE):
  """A note's long-term average log-mel spectrum, for telling instruments
  apart at one pitch.

  The mel power spectrum (`MEL_BANDS` bands over `MEL_RANGE_HZ`) averaged
  over the frames within `LOUD_FRAME_DB` of the loudest, in dB relative to
  its loudest band, floored at -`PROFILE_FLOOR_DB`: the shape of the
  spectrum, not its level.

  Args:
    audio: float [samples] of one note.
    sample_rate: Hz.

  Returns:
    float64 [MEL_BANDS], dB in [-PROFILE_FLOOR_DB, 0]; all 0 for silence.
  """
  power = _frame_power(audio, FRAME_LENGTH)
  mel = power @ import_librosa().filters.mel(
      sr=sample_rate, n_fft=FRAME_LENGTH, n_mels=MEL_BANDS,
      fmin=MEL_RANGE_HZ[0], fmax=MEL_RANGE_HZ[1]).T.astype(np.float64)
  energy = power.sum(axis=1)
  loud = energy >= energy.max() * 10**(-LOUD_FRAME_DB / 10)
  level = 10 * np.log10(mel[loud].mean(axis=0) + np.finfo(np.float64).tiny)
  return np.maximum(level - level.max(), -PROFILE_FLOOR_DB)


def instrument_identification(original_profiles, resynthesis_profiles,
                              groups):
  """Whether each resynthesis is nearest to its own original.

  Among the originals of the same group (the same MIDI pitch, so that
  only the timbre tells them apart), the one whose `timbre_profile` is
  nearest (Euclidean distance in dB) to the resynthesis's should be its
  own. The share of 1s over a group of N notes has chance level 1/N.

  Args:
    original_profiles, resynthesis_profiles: float [notes, MEL_BANDS],
      `timbre_profile` of each original and of its resynthesis, in the
      same order.
    groups: [notes] labels (e.g. MIDI pitches); only originals with the
      resynthesis's label compete.

  Returns:
    float64 [notes]: 1.0 where the nearest original is the note's own, 0.0
    where it is another's, NaN where no other note shares the label.
  """
  original_profiles = np.asarray(original_profiles, np.float64)
  resynthesis_profiles = np.asarray(resynthesis_profiles, np.float64)
  groups = np.asarray(groups)
  same = groups[:, np.newaxis] == groups[np.newaxis]
  distance = np.linalg.norm(resynthesis_profiles[:, np.newaxis]
                            - original_profiles[np.newaxis], axis=-1)
  nearest = np.argmin(np.where(same, distance, np.inf), axis=1)
  identified = (nearest == np.arange(len(groups))).astype(np.float64)
  identified[same.sum(axis=1) < 2] = np.nan
  return identified


def harmonic_to_noise_db(audio, f0_hz, sample_rate=SAMPLE_RATE,
                         band=HARMONIC_BAND):
  """Harmonic-to-noise ratio of a note at the harmonics of a given f0, dB.

  The median over the frames with an f0 of `harmonics.frame_hnr_db` of
  pYIN's frames (Hann window, zero-padded to 4x FRAME_LENGTH): white noise
  s dB below a harmonic tone gives about s dB, noise alone about -3 dB, a
  clean tone of 110 Hz about 42 dB and one of 440 Hz about 73 dB (Hann's
  side lobes; below about 60 Hz the frame cannot separate the harmonics,
  and a clean tone gives under 30 dB).

  Args:
    audio: float [samples] of one note.
    f0_hz: Its f0 per pYIN frame [1 + samples // (FRAME_LENGTH // 4)], NaN
      where unvoiced (a `pitch.f0` track, e.g. of the original of a
      resynthesis), or one f0 for every frame.
    sample_rate: Hz.
    band: Half-width of each harmonic's band, in f0 (below 0.5).

  Returns:
    float dB, or NaN when no frame has an f0.
  """
  fft_length = 4 * FRAME_LENGTH
  power = _frame_power(audio, fft_length)
  f0_hz = np.broadcast_to(np.asarray(f0_hz, np.float64), power.shape[:1])
  ratio = frame_hnr_db(power, np.fft.rfftfreq(fft_length, 1.0 / sample_rate),
                       f0_hz, band)
  if np.all(np.isnan(ratio)):
    return float('nan')
  return float(np.nanmedian(ratio))


def partial(audio, pitch, sample_rate=SAMPLE_RATE, track=None,
            tolerance_cents=CENTS_TOLERANCE, min_hnr_db=MIN_HNR_DB):
  """Which partial of its pitch a note plays.

  The median f0 of the note's voiced frames is compared with the MIDI pitch
  it should play: within `tolerance_cents` of the pitch it is on pitch;
  within `tolerance_cents` of a ratio of `PARTIAL_RATIOS` (3 for the third
  harmonic, 1/2 an octave down, 3/2 the third harmonic of the octave
  below) it is locked to that partial; anything else is another pitch. A
  note without voiced frames, or whose `harmonic_to_noise_db` at its own
  f0 is below `min_hnr_db`, has no pitch (pYIN calls most frames of white
  noise voiced, near its lowest f0).

  Args:
    audio: float [samples] of one note.
    pitch: The MIDI pitch it should play (float).
    sample_rate: Hz.
    track: Its `pitch.f0` (f0 in Hz, voiced flags) when already known;
      else computed.
    tolerance_cents: Largest distance from a ratio.
    min_hnr_db: Harmonic-to-noise ratio below which the note is noise.

  Returns:
    (label, ratio): label `ON_PITCH`, a ratio such as '3', '1/2' or '3/2'
    (`locked` is true of these), `OTHER_PITCH`, or `UNVOICED`; ratio the
    median f0 over the pitch's frequency (NaN when unvoiced).
  """
  frequency, voiced = f0(audio, sample_rate) if track is None else track
  if not np.any(voiced) or harmonic_to_noise_db(
      audio, frequency, sample_rate) < min_hnr_db:
    return UNVOICED, float('nan')
  semitones = float(hz_to_midi(np.median(frequency[voiced])) - pitch)
  for ratio in (fractions.Fraction(1),) + PARTIAL_RATIOS:
    if abs(100 * semitones - 1200 * np.log2(float(ratio))) <= (
        tolerance_cents):
      return str(ratio), 2**(semitones / 12)
  return OTHER_PITCH, 2**(semitones / 12)


def locked(label):
  """Whether a `partial` label names a wrong partial."""
  return label not in (ON_PITCH, OTHER_PITCH, UNVOICED)
