"""The folder `prepare_inputs` writes and `train_torch_gpu.py` reads.

Its file names, the probe both scripts check the port on, the training
notes' mu-law classes on disk, and the resampling tables of the recipe's
pitch augmentation. Only numpy and the standard library, so the
PyTorch recipe imports it on a machine without TensorFlow (it runs as a
script, with this folder first on its path).

The classes are one uint8 [notes, samples] array (values q + 128) saved as
an .npy and compressed with LZMA (xz): on 2,748 notes of four SoundFont
renders of `make_dataset` LZMA kept 43% of the bytes (28.5 of 66 MB), where
numpy's zlib (`savez_compressed`) kept 62%, so a GPU call, which carries
64 MiB, takes about 40% more notes.
"""

import io
import lzma

import numpy as np

CLASSES_FILE = 'classes.npy.xz'
PITCH_FILE = 'pitch.npy'
NOTES_FILE = 'notes.txt'
INIT_FILE = 'init.npz'
EXPECT_FILE = 'expect.npz'
# The probe: the first PROBE_NOTES notes, samples PROBE_START to
# PROBE_START + PROBE_LENGTH, whose logits the two sides compare.
PROBE_START = 20000
PROBE_LENGTH = 2048
PROBE_NOTES = 2


def write_classes(path, classes):
  """Writes uint8 [notes, samples] mu-law classes as LZMA-compressed .npy."""
  buffer = io.BytesIO()
  np.save(buffer, np.asarray(classes, np.uint8), allow_pickle=False)
  with lzma.open(path, 'wb', preset=6) as handle:
    handle.write(buffer.getvalue())


def read_classes(path):
  """The uint8 [notes, samples] array `write_classes` wrote."""
  with lzma.open(path, 'rb') as handle:
    return np.load(io.BytesIO(handle.read()), allow_pickle=False)


# Pitch augmentation: a crop played n semitones higher is its note resampled
# by r = 2 ** (n / 12), each output sample a windowed-sinc interpolation of
# SHIFT_TAPS source samples (Kaiser window, beta SHIFT_BETA: about 80 dB of
# stop band), low-passed at min(1, 1 / r) of the Nyquist frequency so that a
# shift upwards does not alias.
MU_LAW_FILE = 'mu_law.npz'
SHIFT_TAPS = 32
SHIFT_BETA = 8.0


def shift_reads(semitones, length, start, taps=SHIFT_TAPS):
  """Which source samples each sample of a pitch-shifted crop reads, and how.

  Output sample m is the source at position `start + m * r`, r = 2 **
  (semitones / 12): the sum over j of `source[first[m] + j] * weights[m, j]`.
  At 0 semitones every row is one 1 (the source itself).

  Args:
    semitones: The shift, a whole number of semitones (negative: lower).
    length: Samples of the shifted crop.
    start: Source position of output sample 0, at least taps // 2 - 1.
    taps: Source samples per output sample.

  Returns:
    (first, weights, reach): int64 [length] source index of each row's first
    tap, float32 [length, taps] weights (each row sums to 1), and the source
    samples read (one past the last index).
  """
  ratio = 2.0 ** (semitones / 12.0)
  position = start + ratio * np.arange(length)
  first = np.floor(position).astype(np.int64) - taps // 2 + 1
  if first[0] < 0:
    raise ValueError(f'start {start} leaves no room for {taps} taps')
  distance = position[:, None] - (first[:, None] + np.arange(taps))
  cutoff = min(1.0, 1.0 / ratio)
  window = np.i0(SHIFT_BETA * np.sqrt(np.clip(
      1.0 - (distance / (taps // 2)) ** 2, 0.0, None))) / np.i0(SHIFT_BETA)
  weights = cutoff * np.sinc(cutoff * distance) * window
  weights /= weights.sum(axis=1, keepdims=True)
  return first, weights.astype(np.float32), int(first[-1]) + taps


def shift_frames(semitones, frames, hop, start):
  """Where each code frame of a pitch-shifted crop lies among the source's.

  Frame f of the shifted crop (its samples f * hop .. (f + 1) * hop - 1,
  read from the source as `shift_reads` with the same `start`) is centred
  on source frame `lower[f] + fraction[f]`; its code is the source's code
  interpolated there. With `start` a multiple of the hop and 0 semitones,
  that is source frame f + start // hop exactly.

  Args:
    semitones: The shift in semitones.
    frames: Code frames of the shifted crop.
    hop: Samples per code frame.
    start: Source position of the crop's sample 0.

  Returns:
    (lower, fraction): int64 [frames] and float32 [frames] in [0, 1).
  """
  ratio = 2.0 ** (semitones / 12.0)
  centre = start + ratio * ((np.arange(frames) + 0.5) * hop - 0.5)
  position = (centre + 0.5) / hop - 0.5
  lower = np.floor(position).astype(np.int64)
  return lower, (position - lower).astype(np.float32)


def shift_tables(max_semitones, crop, hop, taps=SHIFT_TAPS):
  """`shift_reads` and `shift_frames` of every shift -S..S, for a crop.

  One source span serves every shift: `source` samples (a multiple of the
  hop), the shifted crop starting at source sample `hop` (one frame in, so
  that the unshifted crop's frames are whole source frames and the taps fit).

  Args:
    max_semitones: S, the largest shift either way.
    crop: Samples of a shifted crop (a multiple of the hop).
    hop: Samples per code frame.
    taps: Source samples per output sample.

  Returns:
    Dict of numpy arrays, the first axis the shift + S: 'first' int64
    [2S + 1, crop], 'weights' float32 [2S + 1, crop, taps], 'lower' int64 and
    'fraction' float32 [2S + 1, crop // hop], and 'source' (a 0-d int64, the
    source span in samples).
  """
  shifts = range(-max_semitones, max_semitones + 1)
  reads = [shift_reads(n, crop, hop, taps) for n in shifts]
  frames = [shift_frames(n, crop // hop, hop, hop) for n in shifts]
  source = -(-max(reach for _, _, reach in reads) // hop) * hop + hop
  return {'first': np.stack([first for first, _, _ in reads]),
          'weights': np.stack([weights for _, weights, _ in reads]),
          'lower': np.stack([lower for lower, _ in frames]),
          'fraction': np.stack([fraction for _, fraction in frames]),
          'source': np.int64(source)}
