"""A note's harmonics in its spectrum: how clear they stand, and a filter
that clears the noise between them.

Signal maths in numpy on short-time power spectra whose frames are
`pitch.f0`'s (`FRAME_LENGTH` samples, one every quarter of it, centred), so
that frame i of a spectrum has the f0 of frame i of a pYIN track.
"""

import numpy as np

from magenta_wavenet.sound.audio import SAMPLE_RATE
from magenta_wavenet.sound.audio import import_librosa
from magenta_wavenet.sound.pitch import FRAME_LENGTH
from magenta_wavenet.sound.pitch import fast_f0

HARMONIC_BAND = 0.25  # Half-width of a harmonic's band, in f0.
HOP_LENGTH = FRAME_LENGTH // 4  # Samples between frames, as pYIN's.
# The filter passes each harmonic within PASS_BAND f0 (at least the Hann
# main lobe's half-width, 2 bins) and attenuates fully from STOP_BAND f0
# on, with a raised-cosine slope between.
PASS_BAND = 0.12
STOP_BAND = 0.3
MIN_SLOPE = 0.1  # Narrowest slope, in f0; no room for it: frame left.
# Only frames at least this harmonic are filtered: white noise measures
# about -3 dB, so noise that pYIN calls voiced is left as it is.
MIN_FILTER_HNR_DB = 3.0


def harmonic_distance(frequencies_hz, f0_hz):
  """How far each frequency is from the nearest harmonic k f0 (k >= 1).

  Args:
    frequencies_hz: float [bins].
    f0_hz: float [frames, 1] (or a scalar).

  Returns:
    float64 [frames, bins] in [0, 0.5], in units of f0; NaN below f0 / 2.
  """
  harmonic = np.asarray(frequencies_hz, np.float64) / f0_hz
  return np.where(harmonic >= 0.5, np.abs(harmonic - np.round(harmonic)),
                  np.nan)


def frame_hnr_db(power, frequencies_hz, f0_hz, band=HARMONIC_BAND):
  """Harmonic-to-noise ratio of each frame of a power spectrum, dB.

  From f0 / 2 up, the spectrum is split into the harmonic bands (bins
  within `band` f0 of a harmonic) and the bins between them; the ratio is
  the energy in the bands over the noise between them spread over the
  whole range (its mean power per bin times all bins). White noise s dB
  below a harmonic tone gives about s dB, noise alone about -3 dB (half
  the bins are harmonic).

  Args:
    power: float [frames, bins] power spectra.
    frequencies_hz: float [bins], the bins' frequencies.
    f0_hz: float [frames], NaN (or <= 0) where a frame has no f0.
    band: Half-width of each harmonic's band, in f0 (below 0.5).

  Returns:
    float64 [frames], NaN where a frame has no f0.
  """
  f0_hz = np.asarray(f0_hz, np.float64)
  voiced = np.isfinite(f0_hz) & (f0_hz > 0)
  ratio = np.full(f0_hz.shape, np.nan)
  if not np.any(voiced):
    return ratio
  distance = harmonic_distance(frequencies_hz, f0_hz[voiced, np.newaxis])
  in_range = np.isfinite(distance)
  in_band = in_range & (distance <= band)
  between = in_range & ~in_band
  power = np.asarray(power, np.float64)[voiced]
  tiny = np.finfo(np.float64).tiny
  noise = (np.sum(power * between, axis=1)
           / np.maximum(np.sum(between, axis=1), 1)
           * np.sum(in_range, axis=1))
  ratio[voiced] = 10 * np.log10(
      (np.sum(power * in_band, axis=1) + tiny) / (noise + tiny))
  return ratio


def harmonic_gains(frequencies_hz, f0_hz, attenuation_db,
                   sample_rate=SAMPLE_RATE):
  """The harmonic filter's gain per frame and bin.

  1 within `PASS_BAND` f0 of a harmonic and below f0 / 2, 10^(-a/20)
  from `STOP_BAND` f0 on, a raised cosine between; the pass band is at
  least the Hann main lobe's half-width (2 bins of a `FRAME_LENGTH` FFT).
  A frame without an f0, or whose harmonics stand too close for a slope of
  `MIN_SLOPE` f0 between pass and stop band, keeps gain 1.

  Args:
    frequencies_hz: float [bins].
    f0_hz: float [frames], NaN where a frame is left as it is.
    attenuation_db: a >= 0, the attenuation between harmonics.
    sample_rate: Hz.

  Returns:
    float64 [frames, bins] in [10^(-a/20), 1].
  """
  f0_hz = np.asarray(f0_hz, np.float64)
  gains = np.ones((len(f0_hz), len(frequencies_hz)))
  with np.errstate(invalid='ignore', divide='ignore'):
    pass_band = np.maximum(PASS_BAND, 2 * sample_rate / FRAME_LENGTH / f0_hz)
    stop_band = np.maximum(STOP_BAND, pass_band + MIN_SLOPE)
  rows = np.isfinite(f0_hz) & (f0_hz > 0) & (stop_band < 0.5)
  if not np.any(rows):
    return gains
  distance = harmonic_distance(frequencies_hz, f0_hz[rows, np.newaxis])
  slope = np.clip((np.nan_to_num(distance) - pass_band[rows, np.newaxis])
                  / (stop_band - pass_band)[rows, np.newaxis], 0.0, 1.0)
  floor = 10**(-attenuation_db / 20)
  gains[rows] = 1 - (1 - floor) * 0.5 * (1 - np.cos(np.pi * slope))
  return gains


def harmonic_filter(audio, attenuation_db, sample_rate=SAMPLE_RATE,
                    track=None):
  """Attenuates the noise between the harmonics of the pitch a note plays.

  A post-filter for generated audio, in the spirit of speech codecs' pitch
  post-filters: in each frame where pYIN finds an f0 and the frame is at
  least `MIN_FILTER_HNR_DB` harmonic at it, the short-time spectrum is
  multiplied by `harmonic_gains`; every other frame (silence, noise, a
  sound without pitch) passes unchanged. The f0 is the one the audio
  plays, so a note that plays another partial than the one it was asked
  for keeps it.

  Args:
    audio: float [samples].
    attenuation_db: dB taken off between the harmonics; 0 returns the
      audio unchanged.
    sample_rate: Hz.
    track: Its `pitch.f0` (f0 in Hz, voiced flags) when already known;
      else `pitch.fast_f0`'s, the same track by a compiled graph.

  Returns:
    float32 [samples].

  Raises:
    ValueError: for a negative attenuation, or audio that is not one
      note's samples.
  """
  if not attenuation_db >= 0:
    raise ValueError(
        f'the attenuation between harmonics is {attenuation_db} dB; it '
        'must be 0 or more.')
  audio = np.asarray(audio, np.float32)
  if audio.ndim != 1:
    raise ValueError(f'harmonic_filter takes one note [samples], got shape '
                     f'{list(audio.shape)}; filter each row.')
  if attenuation_db == 0 or len(audio) < FRAME_LENGTH:
    return audio.copy()
  frequency, voiced = (fast_f0(audio, sample_rate) if track is None
                       else track)
  librosa = import_librosa()
  spectrum = librosa.stft(audio, n_fft=FRAME_LENGTH, hop_length=HOP_LENGTH,
                          window='hann', center=True, pad_mode='constant').T
  frames = min(len(spectrum), len(frequency))
  f0_hz = np.full(len(spectrum), np.nan)
  f0_hz[:frames] = np.where(voiced[:frames], frequency[:frames], np.nan)
  bins = np.fft.rfftfreq(FRAME_LENGTH, 1.0 / sample_rate)
  harmonic = frame_hnr_db(np.abs(spectrum)**2, bins, f0_hz)
  with np.errstate(invalid='ignore'):
    f0_hz[~(harmonic >= MIN_FILTER_HNR_DB)] = np.nan
  gains = harmonic_gains(bins, f0_hz, attenuation_db, sample_rate)
  return librosa.istft((spectrum * gains).T, hop_length=HOP_LENGTH,
                       window='hann', center=True,
                       length=len(audio)).astype(np.float32)
