"""The sample loop as one Numba-compiled function, run on every core.

Each call runs a chunk of decoder steps in one function that Numba (which
librosa already requires) compiles to native code: per step and layer the
taps' product, the gate, and the residual and skip product, as loops over
contiguous float32 arrays that LLVM vectorizes. The products keep eight
sums in flight at once, which hides the FMA latency (on the 2-core
development machine: about 42 GFLOP/s on one core for h64_bo16's taps, 30
with four): eight output rows of one input, or four rows of two inputs
that share each weight read (`_add_product`). Where the weights do not fit
in the caches, the products ask for the next rows' weights while they
compute on these (`_prefetch`).

Every step is shared by one thread per core (the function releases the
GIL): each computes its share of every product's rows, so each reads only
its share of the weights, and the threads meet at a spin barrier
(`spin_barrier`, about 60 ns) twice per layer. This splits a batch-1 step
too: h64_bo16_pitch with int8 weights ran at 41 us a step on 2 cores
against 58 on one (in one process), and h512_bo16's float32 step, bound by
reading 237 MB of weights, at 12.7 ms against the XLA step's 16.4 (in one
benchmark run). A row's numbers do not depend on how many threads share
the step.

Weights, in one of `FORMATS`:

* 'float32': the XLA step's products, summed in another order, with tanh
  from a rational approximation (largest error 3.4e-7) and
  sigmoid(x) = (1 + tanh(x / 2)) / 2;
* 'float16': every matrix in IEEE half precision, held as its uint16 bits
  (Numba has no float16 type) and widened by the CPU's F16C conversion as
  it is read (`_as_float32`; x86-64 CPUs since about 2012 have it): half
  the bytes of float32. On the development machine a product whose
  weights are in cache ran 1.15-1.25x faster than int8's, whose weights
  cost two instructions each to widen; but a small model's float16 step
  (1.4 MB for h64_bo16) overflows the L2 caches where int8's fits, so
  int8 stays faster there (h64_bo16_pitch at batch 1 on 2 cores: 55
  against 42 us), while h512_bo16 at batch 16 ran float16 at 19.2 ms a
  step against 25.4 for float32 and 23.2 for int8;
* 'int8': weight-only quantization, each matrix row (output channel) in int8
  with a float32 scale (its largest magnitude / 127), activations float32.
  out1 and logits stay float32, as in the LiteRT model
  (`litert.UNQUANTIZED`). A quarter of the bytes: on 2 cores each core's
  share of h64_bo16's step (0.5 MB) about fits its 512 KB L2 cache.

Samples are drawn by `host_loop.gumbel_max` (the LiteRT loop's noise, keyed
by position), so a seed replays exactly, also across a resume. The compiled
function is cached on disk by Numba, so only the first use on a machine
compiles it (about 10 s for each weight format).
"""

import concurrent.futures
import threading

from llvmlite import ir
import numba
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
import numpy as np

from magenta_wavenet import cpu
from magenta_wavenet.errors import ConfigError
from magenta_wavenet.synthesis import host_loop
from magenta_wavenet.synthesis import litert
from magenta_wavenet.synthesis import spin_barrier
from magenta_wavenet.synthesis.incremental import feedback_tables
from magenta_wavenet.synthesis.incremental import fused_weights
from magenta_wavenet.synthesis.incremental import project_code

FORMATS = ('float32', 'float16', 'int8')

_f32 = np.float32
_TANH_CLAMP = _f32(7.90531110763549805)  # tanh is 1 - 2.4e-7 there
_compiled = numba.njit(fastmath=True, error_model='numpy', cache=True,
                       nogil=True)
_ring_slots = numba.njit(host_loop.ring_slots, cache=True, inline='always')


@intrinsic
def _as_float32(typingctx, weight):  # pylint: disable=unused-argument
  """A weight as float32: float32 as it is, int8 converted, and uint16 read
  as the bits of an IEEE half-precision number (a 'float16' matrix)."""
  if weight not in (types.float32, types.int8, types.uint16):
    return None

  def codegen(context, builder, signature, args):
    value = args[0]
    if signature.args[0] == types.uint16:
      value = builder.fpext(builder.bitcast(value, ir.HalfType()),
                            ir.FloatType())
    elif signature.args[0] == types.int8:
      value = builder.sitofp(value, ir.FloatType())
    return value

  return types.float32(weight), codegen


@intrinsic
def _prefetch(typingctx, matrix, row, column):  # pylint: disable=unused-argument
  """Asks for the cache line of matrix[row, column] in the L2 cache
  (`prefetcht1`), without waiting for it."""
  if not isinstance(matrix, types.Array) or matrix.ndim != 2:
    return None

  def codegen(context, builder, signature, args):
    array_type = signature.args[0]
    array = context.make_array(array_type)(context, builder, args[0])
    pointer = cgutils.get_item_pointer(context, builder, array_type, array,
                                       args[1:], wraparound=False)
    word = ir.IntType(32)
    byte_pointer = ir.IntType(8).as_pointer()
    function = cgutils.get_or_insert_function(
        builder.module,
        ir.FunctionType(ir.VoidType(), [byte_pointer, word, word, word]),
        'llvm.prefetch.p0')
    builder.call(function, [builder.bitcast(pointer, byte_pointer), word(0),
                            word(2), word(1)])
    return context.get_dummy_value()

  return types.void(matrix, row, column), codegen


@numba.njit(fastmath=True, error_model='numpy', cache=True, inline='always')
def _tanh(x):
  """tanh(x) as a rational function of x (odd degree 13 over even degree 6)
  on [-7.905, 7.905], clamped outside: at most 3.4e-7 from tanh."""
  x = _TANH_CLAMP if x > _TANH_CLAMP else x
  x = -_TANH_CLAMP if x < -_TANH_CLAMP else x
  x2 = x * x
  numerator = ((((((_f32(-2.76076847742355e-16) * x2
                    + _f32(2.00018790482477e-13)) * x2
                   + _f32(-8.60467152213735e-11)) * x2
                  + _f32(5.12229709037114e-08)) * x2
                 + _f32(1.48572235717979e-05)) * x2
                + _f32(6.37261928875436e-04)) * x2
               + _f32(4.89352455891786e-03)) * x
  denominator = (((_f32(1.19825839466702e-06) * x2
                   + _f32(1.18534705686654e-04)) * x2
                  + _f32(2.26843463243900e-03)) * x2
                 + _f32(4.89352518554385e-03))
  return numerator / denominator


@numba.njit(fastmath={'contract'}, error_model='numpy', cache=True,
            nogil=True)
def _gate(preactivation, gated, first, last):
  """gated[:, c] = sigmoid(preactivation[:, c]) * tanh(preactivation[:,
  W + c]) for channels c in [first, last), preactivation [B, 2W], gated
  [B, W] (as `decoder_block.gate`).

  Fast-math here only fuses multiply-adds: with all of it, LLVM divided by
  a reciprocal estimate in the vector lanes on AVX-512 CPUs (Zen 4) but
  exactly in the scalar remainder, so a channel's value (1 ulp apart)
  depended on how the threads split the channels. Exact division ran no
  slower (h512_bo16's gate at batch 16: 16.7 us against 19.1).
  """
  width = gated.shape[1]
  half = _f32(0.5)
  for b in range(gated.shape[0]):
    for c in range(first, last):
      gated[b, c] = ((half * _tanh(half * preactivation[b, c]) + half)
                     * _tanh(preactivation[b, width + c]))


@numba.njit(fastmath=True, error_model='numpy', cache=True, inline='always')
def _rows_of_one(matrix, scale, x, out, o):
  """out[o + k] += scale[o + k] * sum_c matrix[o + k, c] x[c], k < 8: eight
  independent sums, which hide the FMA's latency."""
  a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _f32(0)
  for c in range(matrix.shape[1]):
    xc = x[c]
    a0 += _as_float32(matrix[o, c]) * xc
    a1 += _as_float32(matrix[o + 1, c]) * xc
    a2 += _as_float32(matrix[o + 2, c]) * xc
    a3 += _as_float32(matrix[o + 3, c]) * xc
    a4 += _as_float32(matrix[o + 4, c]) * xc
    a5 += _as_float32(matrix[o + 5, c]) * xc
    a6 += _as_float32(matrix[o + 6, c]) * xc
    a7 += _as_float32(matrix[o + 7, c]) * xc
  out[o] += a0 * scale[o]
  out[o + 1] += a1 * scale[o + 1]
  out[o + 2] += a2 * scale[o + 2]
  out[o + 3] += a3 * scale[o + 3]
  out[o + 4] += a4 * scale[o + 4]
  out[o + 5] += a5 * scale[o + 5]
  out[o + 6] += a6 * scale[o + 6]
  out[o + 7] += a7 * scale[o + 7]


@numba.njit(fastmath=True, error_model='numpy', cache=True, inline='always')
def _rows_of_two(matrix, scale, x, y, out_x, out_y, o):
  """`_rows_of_one` for four rows and two inputs, x and y: each weight
  read (and converted) once for both. Eight sums as there; each sum in the
  same order, so a row's numbers do not depend on its batch neighbours."""
  a0 = a1 = a2 = a3 = e0 = e1 = e2 = e3 = _f32(0)
  for c in range(matrix.shape[1]):
    w0 = _as_float32(matrix[o, c])
    w1 = _as_float32(matrix[o + 1, c])
    w2 = _as_float32(matrix[o + 2, c])
    w3 = _as_float32(matrix[o + 3, c])
    xc = x[c]
    yc = y[c]
    a0 += w0 * xc
    a1 += w1 * xc
    a2 += w2 * xc
    a3 += w3 * xc
    e0 += w0 * yc
    e1 += w1 * yc
    e2 += w2 * yc
    e3 += w3 * yc
  out_x[o] += a0 * scale[o]
  out_x[o + 1] += a1 * scale[o + 1]
  out_x[o + 2] += a2 * scale[o + 2]
  out_x[o + 3] += a3 * scale[o + 3]
  out_y[o] += e0 * scale[o]
  out_y[o + 1] += e1 * scale[o + 1]
  out_y[o + 2] += e2 * scale[o + 2]
  out_y[o + 3] += e3 * scale[o + 3]


@numba.njit(fastmath=True, error_model='numpy', cache=True, inline='always')
def _prefetch_lines(matrix, first_row, line, begin, end):
  """Prefetches lines [begin, end) of the cache lines (of `line` entries)
  of the eight rows from first_row (`_prefetch`), counted across the rows:
  line k is row k % 8's (k // 8)th. (Row after row was no faster than not
  prefetching at all.)"""
  for k in range(begin, end):
    _prefetch(matrix, first_row + k % 8, (k // 8) * line)


@_compiled
def _add_product(matrix, scale, inputs, out, first, last, streamed):
  """out[b, o] += scale[o] * sum_c matrix[o, c] inputs[b, c] for rows o in
  [first, last).

  matrix [O, I] in one of `FORMATS`, scale [O], inputs [B, I], out [B, O].
  Blocks of eight rows: pairs of inputs four rows at a time
  (`_rows_of_two`; 1.2-1.5x faster than one input at a time at batch 2 and
  8), every pair on the same four rows before the next four, so that
  their weights stay in the L1 cache while all pairs read them (24 KB of
  h512_bo16's taps; at batch 16 1.2x faster than each pair on all eight);
  a last odd input eight rows at a time (`_rows_of_one`).

  streamed: whether the weights come from memory rather than the caches
  (`host_loop.fits_in_cache`). Then each kernel call first asks for its
  share of the next block's cache lines (`_prefetch_lines`), so that memory
  delivers them while the calls compute on the L1 block. On the 2-core
  development machine's Zen 4 cores (1 MB of L2 each), h512_bo16's step ran
  faster at every batch (interleaved, the fastest of four): float32 by 10%
  at batch 1, 12-13% at 4 and 8, 17% at 16; float16 by 14%, 27-30%, 21%;
  int8 by 32%, 20-35%, 14%. On the Zen 3 cores it ran on before (512 KB of
  L2), batch 12 and 16 gained 9-10% but batch 4 lost 5%. Weights in the
  caches ran 8% slower, so those do not prefetch.
  """
  batch = inputs.shape[0]
  pairs = batch // 2
  calls = 2 * pairs + batch % 2  # kernel calls per block of eight rows
  line = max(1, 64 // matrix.itemsize)  # entries in a 64-byte cache line
  lines = 8 * ((matrix.shape[1] + line - 1) // line)  # of a block
  o = first
  while o + 8 <= last:
    ahead = streamed and o + 16 <= last
    call = 0
    for half in (o, o + 4):
      for pair in range(pairs):
        if ahead:
          _prefetch_lines(matrix, o + 8, line, lines * call // calls,
                          lines * (call + 1) // calls)
        call += 1
        b = 2 * pair
        _rows_of_two(matrix, scale, inputs[b], inputs[b + 1], out[b],
                     out[b + 1], half)
    if batch % 2:
      if ahead:
        _prefetch_lines(matrix, o + 8, line, lines * call // calls, lines)
      _rows_of_one(matrix, scale, inputs[batch - 1], out[batch - 1], o)
    o += 8
  while o < last:
    for b in range(batch):
      total = _f32(0)
      for c in range(matrix.shape[1]):
        total += _as_float32(matrix[o, c]) * inputs[b, c]
      out[b, o] += total * scale[o]
    o += 1


@numba.njit(cache=True, inline='always')
def _share(rows, part, parts):
  """Rows [first, last) of `rows` that thread `part` of `parts` computes:
  whole blocks of eight, as even as they go."""
  blocks = (rows + 7) // 8
  return (min(rows, 8 * (blocks * part // parts)),
          min(rows, 8 * (blocks * (part + 1) // parts)))


@_compiled
def _run_steps(start, start_scale, start_bias, skip_start, skip_start_scale,
               skip_start_bias, taps, taps_scale, res_skip, res_skip_scale,
               res_skip_bias, out1, out1_scale, logits_matrix, logits_scale,
               logits_bias, layer_terms, out_term, hop_length, dilations,
               offsets, rings, start_past, position, x_prev, forced, seed,
               temperature, audio_table, input_table, audio, means,
               logits_out, shared, part, parts, counter, streamed):
  """Steps from t = position: sampling (forced has 0 rows; audio [steps, B]
  gets the samples, and means [steps, B], unless it has 0 rows, their
  distributions' expected values, `host_loop.expected_value`) or teacher
  forcing (forced [steps, B] are the network
  inputs of the samples predicted; logits_out [steps, B, 256] gets the
  logits). Matrices are `NumbaDecoder`'s, [out, in] with a scale per row.

  Thread `part` of `parts` (all running this function on the same arrays)
  computes its share of every product's rows (`_share`; the taps' rows of
  its channels' filter and gate, so its gate needs nothing of the others'),
  and the threads meet at a barrier (`spin_barrier.wait` on counter)
  wherever a product needs the rows of all. shared: (residual [B, W], skips
  [B, skip], gated [B, W], hidden [B, out1], logits [B, 256]), the
  activations that the threads read whole. Every thread draws the same
  samples from the whole logits; part 0 writes audio, logits_out and, at
  the end, x_prev [B] and start_past [B, 2]. Each thread writes its
  channels of rings (`host_loop.Rings`). streamed: whether the products
  prefetch their weights (`_add_product`).
  """
  residual, skips, gated, hidden, logits = shared
  layers = taps.shape[0]
  width = residual.shape[1]
  skip = skips.shape[1]
  batch = x_prev.shape[0]
  steps = max(forced.shape[0], audio.shape[0])
  first, last = _share(width, part, parts)
  skip_first, skip_last = _share(skip, part, parts)
  hidden_first, hidden_last = _share(hidden.shape[1], part, parts)
  logits_first, logits_last = _share(logits.shape[1], part, parts)
  x_now = x_prev.copy()
  past = start_past.copy()
  tapped = np.empty((batch, 3 * width), np.float32)
  preactivation = np.empty((batch, 2 * width), np.float32)
  res_skip_out = np.empty((batch, width + skip), np.float32)
  rectified = np.empty((batch, skip), np.float32)
  zero = _f32(0)
  meeting = 0
  for i in range(steps):
    t = position + i
    frame = t // hop_length
    for b in range(batch):
      x = x_now[b]
      for c in range(first, last):
        residual[b, c] = start_scale[c] * (
            _as_float32(start[c, 0]) * past[b, 0]
            + _as_float32(start[c, 1]) * past[b, 1]
            + _as_float32(start[c, 2]) * x) + start_bias[c]
      past[b, 0] = past[b, 1]
      past[b, 1] = x
      for c in range(skip_first, skip_last):
        skips[b, c] = skip_start_bias[c]
    meeting += 1
    spin_barrier.wait(counter, parts, meeting)
    _add_product(skip_start, skip_start_scale, residual, skips, skip_first,
                 skip_last, streamed)
    for layer in range(layers):
      oldest, middle = _ring_slots(offsets[layer], dilations[layer], t)
      for b in range(batch):
        for c in range(width):
          tapped[b, c] = rings[oldest, b, c]
          tapped[b, width + c] = rings[middle, b, c]
          tapped[b, 2 * width + c] = residual[b, c]
        for c in range(first, last):
          preactivation[b, c] = layer_terms[frame, layer, b, c]
          preactivation[b, width + c] = layer_terms[frame, layer, b,
                                                    width + c]
          res_skip_out[b, c] = res_skip_bias[layer, c]
        for c in range(skip_first, skip_last):
          res_skip_out[b, width + c] = res_skip_bias[layer, width + c]
      _add_product(taps[layer], taps_scale[layer], tapped, preactivation,
                   first, last, streamed)
      _add_product(taps[layer], taps_scale[layer], tapped, preactivation,
                   width + first, width + last, streamed)
      _gate(preactivation, gated, first, last)
      meeting += 1
      spin_barrier.wait(counter, parts, meeting)
      for b in range(batch):
        for c in range(first, last):
          rings[oldest, b, c] = residual[b, c]
      _add_product(res_skip[layer], res_skip_scale[layer], gated,
                   res_skip_out, first, last, streamed)
      _add_product(res_skip[layer], res_skip_scale[layer], gated,
                   res_skip_out, width + skip_first, width + skip_last,
                   streamed)
      for b in range(batch):
        for c in range(first, last):
          residual[b, c] += res_skip_out[b, c]
        for c in range(skip_first, skip_last):
          skips[b, c] += res_skip_out[b, width + c]
      meeting += 1
      spin_barrier.wait(counter, parts, meeting)
    for b in range(batch):
      for c in range(skip):
        rectified[b, c] = max(skips[b, c], zero)
      for c in range(hidden_first, hidden_last):
        hidden[b, c] = out_term[frame, b, c]
    _add_product(out1, out1_scale, rectified, hidden, hidden_first,
                 hidden_last, streamed)
    for b in range(batch):
      for c in range(hidden_first, hidden_last):
        hidden[b, c] = max(hidden[b, c], zero)
    meeting += 1
    spin_barrier.wait(counter, parts, meeting)
    for b in range(batch):
      for c in range(logits_first, logits_last):
        logits[b, c] = logits_bias[c]
    _add_product(logits_matrix, logits_scale, hidden, logits, logits_first,
                 logits_last, streamed)
    meeting += 1
    spin_barrier.wait(counter, parts, meeting)
    for b in range(batch):
      if forced.shape[0]:
        if part == 0:
          logits_out[i, b] = logits[b]
        x_now[b] = forced[i, b]
        continue
      best = host_loop.gumbel_max(logits[b], temperature, seed, t, b)
      if part == 0:
        audio[i, b] = audio_table[best]
        if means.shape[0]:
          means[i, b] = host_loop.expected_value(logits[b], temperature,
                                                 audio_table)
      x_now[b] = input_table[best]
  if part == 0:
    x_prev[:] = x_now
    start_past[:] = past


def _quantized(matrix):
  """matrix [..., out, in] float32 -> (int8 matrix, float32 scale [...,
  out]) with matrix ~ int8 * scale[..., None], per output row."""
  largest = np.abs(matrix).max(axis=-1)
  scale = np.where(largest > 0, largest / 127, 1).astype(np.float32)
  return (np.round(matrix / scale[..., None]).astype(np.int8), scale)


def step_matrices(fused, weights):
  """The step weights as `_run_steps` reads them.

  Args:
    fused: `incremental.fused_weights(decoder)`.
    weights: One of `FORMATS`.

  Returns:
    {name: (matrix, scale per row, bias)} numpy, for 'start', 'skip_start',
    'taps' and 'res_skip' (stacked over layers: [layers, out, in],
    [layers, out], [layers, out]), 'out1' and 'logits'. Matrices are
    [out, in]: int8 where `weights` is 'int8' (but `litert.UNQUANTIZED`),
    the uint16 bits of float16 where it is 'float16', float32 otherwise.
    The taps' and out1's biases are in `project_code`'s terms.
  """
  if weights not in FORMATS:
    raise ConfigError(f'The Numba loop runs weights in '
                      f'{", ".join(FORMATS)}; got {weights!r}.')
  matrices = {}
  for name, pairs in fused.items():
    if name == 'condition':
      continue
    if isinstance(pairs, list):  # one pair per layer
      pairs = [np.stack([pair[part] for pair in pairs]) for part in (0, 1)]
    matrix, bias = (np.asarray(part, np.float32) for part in pairs)
    scale = np.ones(matrix.shape[:-1], np.float32)
    if weights == 'int8' and name not in litert.UNQUANTIZED:
      matrix, scale = _quantized(matrix)
    elif weights == 'float16':
      matrix = matrix.astype(np.float16).view(np.uint16)
    matrices[name] = (np.ascontiguousarray(matrix), scale, bias)
  return matrices


class NumbaDecoder:
  """A decoder's step weights and the Numba-compiled loop over them.

  The loops have the signatures of `generation.Synthesizer`'s compiled
  ones, with numpy arrays.

  Args:
    decoder: A `WaveNetDecoder` (`model.decoder`); `refresh` takes its
      weights again when they have changed.
    weights: One of `FORMATS`.
    threads: Threads sharing each step; default one per core.
  """

  def __init__(self, decoder, weights='float32', threads=None):
    self.config = decoder.config
    self.weights = weights
    self._decoder = decoder
    self._rings = host_loop.Rings(decoder.config)
    self._audio_table, self._input_table = (
        table.numpy() for table in feedback_tables())
    self._fingerprint = None
    self._fused = None
    self._matrices = None
    self._threads = threads or cpu.cores()
    self._streamed = not host_loop.fits_in_cache(decoder.config)
    self._executor = None
    self._pool_lock = threading.Lock()
    self.refresh()

  def refresh(self):
    """Takes the decoder's weights again if they changed since."""
    fingerprint = host_loop.fingerprint(self._decoder)
    if fingerprint != self._fingerprint:
      self._fused = fused_weights(self._decoder)
      self._matrices = step_matrices(self._fused, self.weights)
      self._fingerprint = fingerprint

  def project_code(self, code):
    """(layer_terms [frames, layers, batch, 2W], out_term [frames, batch,
    skip]) of code [batch, frames, code_width], float32 numpy."""
    layer_terms, out_term = project_code(self._decoder, self._fused,
                                         np.asarray(code, np.float32))
    return (np.ascontiguousarray(layer_terms.numpy()),
            np.ascontiguousarray(out_term.numpy()))

  def init_state(self, batch):
    """Zero state (`host_loop.Rings.init_state`)."""
    return self._rings.init_state(batch)

  def _run(self, state, x_prev, projected, forced, seed, temperature,
           audio, logits, means=None):
    """Runs `_run_steps` from the state, which it advances in place, on
    all of the decoder's threads at once (`threads`; each computes its
    share of every step's rows); returns the last network input [batch].
    """
    x_prev = np.array(x_prev, np.float32)
    batch = len(x_prev)
    steps = max(len(forced), len(audio))
    if means is None:
      means = np.zeros([0, batch], np.float32)
    last = state[0] + steps - 1
    if last // self.config.hop_length >= len(projected[0]):
      raise ValueError(f'step {last} needs code frame '
                       f'{last // self.config.hop_length}; the code has '
                       f'{len(projected[0])}.')
    shared = tuple(np.zeros([batch, rows], np.float32) for rows in (
        self.config.decoder_width, self.config.skip_width,
        self.config.decoder_width, self._matrices['out1'][0].shape[0],
        self._matrices['logits'][0].shape[0]))
    counter = np.zeros(16, np.int64)  # a cache line of its own

    def run(part):
      _run_steps(*self._arguments, projected[0], projected[1],
                 self.config.hop_length, self._rings.dilations,
                 self._rings.offsets, state[2], state[1], state[0], x_prev,
                 forced, seed, np.float32(temperature), self._audio_table,
                 self._input_table, audio, means, logits, shared, part,
                 self._threads, counter, self._streamed)

    if self._threads == 1:
      run(0)
    else:
      # One run at a time on the pool: the parts of two runs sharing its
      # threads could each wait at a barrier for a part that no thread is
      # free to start.
      with self._pool_lock:
        list(self._pool().map(run, range(self._threads)))
    state[0] += steps
    return x_prev

  @property
  def _arguments(self):
    """The weights in `_run_steps`' order."""
    start, skip_start, taps, res_skip, out1, logits_layer = (
        self._matrices[name] for name in ('start', 'skip_start', 'taps',
                                          'res_skip', 'out1', 'logits'))
    return (*start, *skip_start, *taps[:2], *res_skip, *out1[:2],
            *logits_layer)

  def _pool(self):
    """The threads that run the parts, started on first use."""
    if self._executor is None:
      self._executor = concurrent.futures.ThreadPoolExecutor(
          self._threads, thread_name_prefix='numba_loop')
    return self._executor

  def sample_loop(self, state, x_prev, projected, num_steps, seed,
                  temperature, means=None):
    """Samples `num_steps` samples; returns (state, last input, audio
    [num_steps, batch]), drawn by `host_loop.gumbel_max` with the seed's
    noise. `means`, when given (float32 [num_steps, batch]), gets each
    sample's expected value (`host_loop.expected_value`).
    """
    batch = len(x_prev)
    audio = np.zeros([num_steps, batch], np.float32)
    x_prev = self._run(state, x_prev, projected,
                       np.zeros([0, batch], np.float32), seed, temperature,
                       audio, np.zeros([0, batch, 256], np.float32), means)
    return state, x_prev, audio

  def forced_loop(self, state, x_prev, projected, inputs):
    """Teacher forcing over inputs [steps, batch] (network inputs of the
    samples predicted); returns (state, last input, logits [steps, batch,
    256])."""
    inputs = np.ascontiguousarray(inputs, np.float32)
    steps, batch = inputs.shape
    logits = np.zeros([steps, batch, self.config.quantization_channels],
                      np.float32)
    x_prev = self._run(state, x_prev, projected, inputs, 0, 0.0,
                       np.zeros([0, batch], np.float32), logits)
    return state, x_prev, logits
