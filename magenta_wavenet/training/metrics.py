"""Resynthesis quality measures: NLL in bits, STFT distance, pitch accuracy.

Pure functions of numpy arrays (and the model, for the NLL); no training
state.
"""

import numpy as np
import tensorflow as tf

from magenta_wavenet.audio import SAMPLE_RATE
from magenta_wavenet.autoencoder import cross_entropy
from magenta_wavenet.pitch import f0

STFT_SIZES = (2048, 1024, 512, 256, 128, 64)
CENTS_TOLERANCE = 50.0


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
                   tolerance_cents=CENTS_TOLERANCE, reference_track=None):
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

  Returns:
    Fraction in [0, 1], or NaN when the reference has no voiced frame.
  """
  if reference_track is None:
    reference_track = f0(reference, sample_rate)
  f_ref, voiced_ref = reference_track
  f_est, voiced_est = f0(estimate, sample_rate)
  if not np.any(voiced_ref):
    return float('nan')
  both = voiced_ref & voiced_est
  cents = np.full(f_ref.shape, np.inf)
  cents[both] = np.abs(1200.0 * np.log2(f_est[both] / f_ref[both]))
  return float(np.mean(cents[voiced_ref] <= tolerance_cents))
