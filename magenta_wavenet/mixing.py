"""Maths on NSynth codes: weighted mixes, interpolation grids, time stretch,
crossfades.

Pure numpy, no model. A code is a float array [frames, channels] (31.25
frames per second for hop 512 at 16 kHz); functions that take several codes
cut them to the shortest one's frames, so sounds of different lengths can be
combined.
"""

import numpy as np

from magenta_wavenet.errors import CodeError


def _as_codes(codes, least=1):
  """Checks a list of [frames, channels] codes and cuts them to equal frames.

  Returns:
    float32 array [len(codes), min frames, channels].
  """
  codes = [np.asarray(code, np.float32) for code in codes]
  if len(codes) < least:
    raise CodeError(f'need at least {least} codes, got {len(codes)}.')
  for index, code in enumerate(codes):
    if code.ndim != 2 or code.shape[0] < 1:
      raise CodeError(
          f'code {index}: expected shape [frames, channels], got '
          f'{list(code.shape)}.')
  widths = {code.shape[1] for code in codes}
  if len(widths) > 1:
    raise CodeError(
        f'codes have different widths {sorted(widths)}; they must come from '
        'the same model.')
  frames = min(code.shape[0] for code in codes)
  return np.stack([code[:frames] for code in codes])


def weighted_mix(codes, weights):
  """Sum of codes times weights, `sum_i w_i c_i`, frame by frame.

  The weights are used as given (not normalized): 0.5/0.5 averages two
  codes, 1/1 adds them.

  Args:
    codes: Sequence of n arrays [frames_i, channels].
    weights: Sequence of n floats.

  Returns:
    float32 array [min frames_i, channels].
  """
  stacked = _as_codes(codes)
  weights = np.asarray(weights, np.float32)
  if weights.shape != (stacked.shape[0],):
    raise CodeError(
        f'got {stacked.shape[0]} codes but {weights.size} weights.')
  return np.tensordot(weights, stacked, axes=1).astype(np.float32)


def interpolate(code_a, code_b, steps):
  """Codes evenly spaced on the line from `code_a` to `code_b`, both included.

  Args:
    code_a: [frames, channels], the first step.
    code_b: [frames, channels], the last step.
    steps: Number of codes, at least 2.

  Returns:
    float32 array [steps, frames, channels]; step k is
    `(1 - k / (steps - 1)) * a + k / (steps - 1) * b`.
  """
  if steps < 2:
    raise CodeError(f'interpolation needs at least 2 steps, got {steps}.')
  a, b = _as_codes([code_a, code_b])
  alphas = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None, None]
  return ((1.0 - alphas) * a + alphas * b).astype(np.float32)


def grid(corners, steps):
  """Bilinear grid between four codes, as the NSynth instrument grid.

  Args:
    corners: Four codes [frames, channels]: top-left, top-right,
      bottom-left, bottom-right.
    steps: Points per side, at least 2.

  Returns:
    float32 array [steps, steps, frames, channels]; entry (row, col) with
    y = row / (steps - 1) and x = col / (steps - 1) is
    `(1-x)(1-y) tl + x(1-y) tr + (1-x) y bl + x y br`, so the four corners
    of the grid are the four codes.
  """
  if len(corners) != 4:
    raise CodeError(f'a grid needs 4 corner codes, got {len(corners)}.')
  if steps < 2:
    raise CodeError(f'a grid needs at least 2 steps, got {steps}.')
  top_left, top_right, bottom_left, bottom_right = _as_codes(corners)
  top = interpolate(top_left, top_right, steps)
  bottom = interpolate(bottom_left, bottom_right, steps)
  y = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None, None, None]
  return ((1.0 - y) * top[None] + y * bottom[None]).astype(np.float32)


def timestretch(code, factor):
  """Resamples a code in time: `factor` 2 makes the sound twice as long.

  Frame j of the result sits at time (j + 0.5) / factor - 0.5 in frames of
  the input (frame centres stay aligned) and is linearly interpolated
  between its two neighbouring input frames; times beyond the ends take the
  end frames.

  Args:
    code: [frames, channels].
    factor: Positive float; the result has max(1, round(frames * factor))
      frames.

  Returns:
    float32 array [new frames, channels].
  """
  (code,) = _as_codes([code])
  if not np.isfinite(factor) or factor <= 0:
    raise CodeError(f'time-stretch factor must be positive, got {factor}.')
  frames = code.shape[0]
  new_frames = max(1, int(round(frames * factor)))
  positions = (np.arange(new_frames) + 0.5) / factor - 0.5
  positions = np.clip(positions, 0.0, frames - 1)
  lower = np.floor(positions).astype(int)
  upper = np.minimum(lower + 1, frames - 1)
  fraction = (positions - lower)[:, None]
  stretched = (1.0 - fraction) * code[lower] + fraction * code[upper]
  return stretched.astype(np.float32)


def crossfade(code_a, code_b, overlap):
  """Plays `code_a`, then `code_b`, blending linearly over `overlap` frames.

  Args:
    code_a: [frames_a, channels].
    code_b: [frames_b, channels].
    overlap: Frames in which both sound, 0 <= overlap <= min(frames_a,
      frames_b); 0 simply concatenates.

  Returns:
    float32 array [frames_a + frames_b - overlap, channels]. Overlap frame k
    (0-based) is `(1 - w) a[frames_a - overlap + k] + w b[k]` with
    w = (k + 1) / (overlap + 1).
  """
  code_a = np.asarray(code_a, np.float32)
  code_b = np.asarray(code_b, np.float32)
  _as_codes([code_a, code_b])
  frames_a, frames_b = code_a.shape[0], code_b.shape[0]
  if not 0 <= overlap <= min(frames_a, frames_b):
    raise CodeError(
        f'crossfade overlap must be between 0 and {min(frames_a, frames_b)} '
        f'frames, got {overlap}.')
  w = (np.arange(1, overlap + 1, dtype=np.float32) / (overlap + 1))[:, None]
  blend = (1.0 - w) * code_a[frames_a - overlap:] + w * code_b[:overlap]
  return np.concatenate(
      [code_a[:frames_a - overlap], blend, code_b[overlap:]]).astype(np.float32)


MODES = ('mix', 'interpolate', 'grid', 'timestretch', 'crossfade')


def combine(mode, codes, weights=None, steps=5, factor=2.0, overlap=16,
            stem='code'):
  """Runs one of `MODES` on codes and names its results.

  Args:
    mode: 'mix' (`weighted_mix` of any number of codes with `weights`),
      'interpolate' (2 codes), 'grid' (4 corner codes: top-left, top-right,
      bottom-left, bottom-right), 'timestretch' (1 code) or 'crossfade'
      (2 codes).
    codes: The codes, each [frames, channels].
    weights: For 'mix', one float per code (not normalized).
    steps: Interpolation steps (per side of a grid), at least 2.
    factor: Time-stretch factor: 2 is twice as long.
    overlap: Crossfade length in code frames.
    stem: Name of the sound that 'timestretch' stretches.

  Returns:
    dict {output name: float32 code [frames, channels]}: 'mix';
    'interp_<k>' for k = 0..steps-1; 'grid_<row>_<col>';
    '<stem>_stretch_<factor>'; 'crossfade'.
  """
  if mode == 'mix':
    return {'mix': weighted_mix(codes, weights)}
  if mode == 'timestretch':
    (code,) = codes
    return {f'{stem}_stretch_{factor:g}': timestretch(code, factor)}
  if mode == 'interpolate':
    return {f'interp_{k}': code
            for k, code in enumerate(interpolate(codes[0], codes[1], steps))}
  if mode == 'grid':
    cells = grid(codes, steps)
    return {f'grid_{row}_{col}': cells[row, col]
            for row in range(steps) for col in range(steps)}
  if mode == 'crossfade':
    return {'crossfade': crossfade(codes[0], codes[1], overlap)}
  raise ValueError(f'unknown mode {mode!r}; one of {", ".join(MODES)}.')
