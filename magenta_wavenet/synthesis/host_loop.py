"""What the sample loops driven from numpy share (`litert`, `numba_loop`).

* The state: the time step t, the start convolution's past [batch, 2]
  (x[t - 2], x[t - 1]), and one ring buffer of 2d slots per dilated
  convolution, stacked [sum(2d), batch, width]: x[t - 2d] is read from slot
  t mod 2d before x[t] is written there, x[t - d] is in slot (t + d) mod 2d.
* The noise: standard Gumbel noise, a pure function (`gumbel`) of (seed,
  position, batch row, category), so a seed replays exactly whatever the
  loop's chunk size, also across a resume (`prime`), and a loop computes
  only the noise it needs (`gumbel_max`); a loop asked for each sample's
  expected value writes the mean of the distribution it draws from
  (`expected_value`) beside the draw.
* Whether a decoder's step weights fit in the CPU caches, which decides
  which loop runs it fastest.
"""

import weakref
import zlib

import numba
import numpy as np
import tensorflow as tf

# Below this many bytes of float32 step weights (they stay in the caches)
# a step is bound by the work per operation, not by reading weights from
# memory: h64_bo16's take 2.7 MB, h512_bo16's 237 MB.
_SMALL_WEIGHT_BYTES = 16 * 2**20


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


_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, inline='always')
def _mix(z):
  """SplitMix64's output function of a uint64."""
  z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
  z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
  return z ^ (z >> _U64(31))


@numba.njit(cache=True, inline='always')
def _uniform(seed, position, row, category):
  """The uniform u = (k + 1/2) / 2^23, k in [0, 2^23), float32, of
  SplitMix64's stream of the seed at counter (position, row, category)."""
  counter = ((_U64(position) << _U64(24)) | (_U64(row) << _U64(8))
             | _U64(category))
  bits = _mix(_mix(_U64(seed)) + counter * _GOLDEN)
  return (np.float32(bits >> _U64(41)) + np.float32(0.5)) * np.float32(
      2.0**-23)


@numba.njit(cache=True, inline='always')
def gumbel(seed, position, row, category):
  """Standard Gumbel noise, float32, for one (seed, position, batch row,
  category): -log(-log(u)) of a uniform u in (0, 1) from SplitMix64's
  stream of the seed at counter (position, row, category); in [-2.82,
  16.64] (`GUMBEL_CEILING`). Compiled by Numba; position < 2^40, row <
  2^16, category < 256."""
  return _gumbel_of(_uniform(seed, position, row, category))


@numba.njit(cache=True, inline='always')
def _gumbel_of(uniform):
  """The standard Gumbel quantile of a uniform in (0, 1)."""
  return -np.log(-np.log(uniform))


# Above every value of `gumbel` (its largest, at k = 2^23 - 1, is 16.6355).
GUMBEL_CEILING = np.float32(16.64)
# _GUMBEL_FLOORS[k]: below this uniform, the noise is under k - 0.001
# (the Gumbel quantile exp(-exp(-x)), rounded down), k = 0 ... 16.
_GUMBEL_FLOORS = np.nextafter(
    np.exp(-np.exp(-(np.arange(17) - 1e-3))).astype(np.float32),
    np.float32(0))


@numba.njit(cache=True, inline='always')
def gumbel_max(logits, temperature, seed, position, row):
  """argmax over categories o of logits[o] + temperature * gumbel(seed,
  position, row, o) (the first on ties): a sample of softmax(logits /
  temperature), the argmax at temperature 0.

  Computes the noise (two logarithms) only where it can win: a category
  needing noise above `GUMBEL_CEILING` to beat the best so far is skipped,
  and one needing more than k (k whole) is skipped when its uniform is below
  the Gumbel quantile of k, so most categories cost one hash.
  """
  top = 0
  for category in range(1, logits.shape[0]):
    if logits[category] > logits[top]:
      top = category
  if temperature <= 0:
    return top
  best = top
  best_value = logits[top] + temperature * gumbel(seed, position, row, top)
  for category in range(logits.shape[0]):
    needed = (best_value - logits[category]) / temperature
    if category == top or needed > GUMBEL_CEILING:
      continue
    uniform = _uniform(seed, position, row, category)
    if needed >= 0 and uniform < _GUMBEL_FLOORS[int(needed)]:
      continue
    value = logits[category] + temperature * _gumbel_of(uniform)
    if value > best_value or (value == best_value and category < best):
      best, best_value = category, value
  return best


@numba.njit(fastmath=True, error_model='numpy', cache=True)
def expected_value(logits, temperature, audio_table):
  """sum_o softmax(logits / temperature)[o] * audio_table[o]: the mean
  amplitude of the distribution `gumbel_max` draws from; at temperature 0,
  the most likely class's (`expectation.expected_value` in the graph)."""
  top = 0
  for category in range(1, logits.shape[0]):
    if logits[category] > logits[top]:
      top = category
  if temperature <= 0:
    return audio_table[top]
  total = np.float32(0.0)
  weighted = np.float32(0.0)
  for category in range(logits.shape[0]):
    weight = np.exp((logits[category] - logits[top]) / temperature)
    total += weight
    weighted += weight * audio_table[category]
  return weighted / total


# decoder -> a graph function concatenating its weights: one call instead
# of a slow eager read per variable (h64_bo16_pitch: 11 against 37 ms).
_FLATTENERS = weakref.WeakKeyDictionary()


def fingerprint(decoder):
  """A checksum (CRC-32 and size) of a decoder's weights, to notice that
  they changed."""
  if decoder not in _FLATTENERS:
    variables = list(decoder.weights)

    def flatten():
      return tf.concat([tf.reshape(variable.value, [-1])
                        for variable in variables], 0)

    _FLATTENERS[decoder] = tf.function(flatten, autograph=False)
  flat = _FLATTENERS[decoder]().numpy()
  return (zlib.crc32(flat), flat.size)
