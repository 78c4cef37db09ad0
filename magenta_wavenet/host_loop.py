"""What the sample loops driven from numpy share (`litert`, `numba_loop`).

* The state: the time step t, the start convolution's past [batch, 2]
  (x[t - 2], x[t - 1]), and one ring buffer of 2d slots per dilated
  convolution, stacked [sum(2d), batch, width]: x[t - 2d] is read from slot
  t mod 2d before x[t] is written there, x[t - d] is in slot (t + d) mod 2d.
* The noise: standard Gumbel noise [batch, 256] per position, drawn a block
  of `NOISE_BLOCK` positions at a time from a numpy generator keyed by
  (seed, block index), so a seed replays exactly whatever the loop's chunk
  size, also across a resume (`prime`).
* Whether a decoder's step weights fit in the CPU caches, which decides
  which loop runs it fastest, and how many cores the loops may use.
"""

import hashlib
import os

import numpy as np

# Below this many bytes of float32 step weights (they stay in the caches)
# a step is bound by the work per operation, not by reading weights from
# memory: h64_bo16's take 2.7 MB, h512_bo16's 237 MB.
_SMALL_WEIGHT_BYTES = 16 * 2**20
# Positions per block of noise (the generators' unit of replay).
NOISE_BLOCK = 4096


def cores():
  """CPU cores this process may run on (its affinity where the system has
  one, so a container limited to 2 of 64 cores gets 2)."""
  if hasattr(os, 'sched_getaffinity'):
    return len(os.sched_getaffinity(0))
  return os.cpu_count() or 1


def fits_in_cache(config):
  """Whether the float32 weights of the decoder layers' step (the bulk of
  all) stay under 16 MiB, for a `WaveNetConfig`."""
  width, skip = config.decoder_width, config.skip_width
  entries = len(config.decoder_dilations) * (
      3 * width * 2 * width + width * (width + skip))
  return 4 * entries < _SMALL_WEIGHT_BYTES


class Rings:
  """Where each dilated convolution's taps live in the stacked ring buffer.

  Args:
    config: The decoder's `WaveNetConfig`.
  """

  def __init__(self, config):
    self.config = config
    self.dilations = np.array(config.decoder_dilations, np.int64)
    self.sizes = 2 * self.dilations
    self.offsets = np.cumsum(self.sizes) - self.sizes

  def init_state(self, batch):
    """Zero state: [t, start past [batch, 2], rings [sum(2d), batch,
    width]] (see the module docstring)."""
    return [0, np.zeros([batch, 2], np.float32),
            np.zeros([int(self.sizes.sum()), batch, self.config.decoder_width],
                     np.float32)]

  def slots(self, position):
    """`ring_slots` of every layer at t = position: int arrays [layers]."""
    return ring_slots(self.offsets, self.dilations, position)


def ring_slots(offset, dilation, position):
  """Rows of x[t - 2d] (where x[t] goes next) and of x[t - d] at
  t = position, for a ring of 2d slots starting at row `offset` of the
  stacked rings. Plain arithmetic: numpy arrays of layers, or scalars (the
  Numba loop compiles it)."""
  return (offset + position % (2 * dilation),
          offset + (position + dilation) % (2 * dilation))


class SeededNoise:
  """Standard Gumbel noise for positions, drawn `NOISE_BLOCK` positions at a
  time from a generator keyed by (seed, block index).

  Args:
    seed: Integer.
    batch: Rows of noise per position.
  """

  def __init__(self, seed, batch):
    self._seed = int(seed)
    self._batch = batch
    self._block = None
    self._noise = None

  def _load(self, block):
    if block != self._block:
      uniform = np.random.default_rng([self._seed, block]).random(
          [NOISE_BLOCK, self._batch, 256], dtype=np.float32)
      self._noise = -np.log(-np.log(np.maximum(
          uniform, np.finfo(np.float32).tiny)))
      self._block = block
    return self._noise

  def at(self, position):
    """The noise of one position, [batch, 256]."""
    block, offset = divmod(position, NOISE_BLOCK)
    return self._load(block)[offset]

  def span(self, start, count):
    """The noise of positions [start, start + count), [count, batch, 256]."""
    pieces = []
    while count > 0:
      block, offset = divmod(start, NOISE_BLOCK)
      taken = min(count, NOISE_BLOCK - offset)
      pieces.append(self._load(block)[offset:offset + taken])
      start += taken
      count -= taken
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def fingerprint(decoder):
  """A digest of a decoder's weights, to notice that they changed."""
  digest = hashlib.blake2b(digest_size=16)
  for variable in decoder.weights:
    digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
  return digest.hexdigest()
