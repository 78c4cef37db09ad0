"""The sample loop of small decoders as one Numba-compiled function.

A decoder whose step weights fit in the CPU caches (`host_loop.
fits_in_cache`, e.g. the shipped h64_bo16 models: 2.7 MB of float32) is not
bound by reading them: the XLA loop's step is mostly the fixed cost of its
hundreds of small operations. `NumbaDecoder` runs a chunk of steps in one
function that Numba (which librosa already requires) compiles to native
code: per step and layer the taps' product, the gate, and the residual and
skip product, as loops over contiguous float32 arrays that LLVM vectorizes.
The products keep eight output rows in flight at once, which ran h64_bo16's
taps product at about 42 GFLOP/s on one core of the 2-core development
machine, against 30 for four rows (the FMA latency is the bound).

Weights, in one of `FORMATS`:

* 'float32': the XLA step's products, summed in another order, with tanh
  from a rational approximation (largest error 3.4e-7) and
  sigmoid(x) = (1 + tanh(x / 2)) / 2;
* 'int8': weight-only quantization, each matrix row (output channel) in int8
  with a float32 scale (its largest magnitude / 127), activations float32.
  out1 and logits stay float32, as in the LiteRT model
  (`litert.UNQUANTIZED`). A quarter of the bytes: h64_bo16's whole step
  stays in one core's 1 MB L2 cache.

A batch is split into one group of rows per core, each group run by the
function on a thread of its own (it releases the GIL); a batch-1 step runs
on one core. Samples are drawn by Gumbel-max with `host_loop.SeededNoise`
(the LiteRT loop's noise), so a seed replays exactly, also across a resume,
whatever the grouping. The compiled function is cached on disk by Numba,
so only the first use on a machine compiles it (about 10 s for each weight
format).
"""

import concurrent.futures

import numba
import numpy as np

from magenta_wavenet import host_loop
from magenta_wavenet import litert
from magenta_wavenet.errors import ConfigError
from magenta_wavenet.incremental import feedback_tables
from magenta_wavenet.incremental import fused_weights
from magenta_wavenet.incremental import project_code

FORMATS = ('float32', 'int8')

_f32 = np.float32
_TANH_CLAMP = _f32(7.90531110763549805)  # tanh is 1 - 2.4e-7 there
_compiled = numba.njit(fastmath=True, error_model='numpy', cache=True,
                       nogil=True)
_ring_slots = numba.njit(host_loop.ring_slots, cache=True, inline='always')


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


@_compiled
def _gate(preactivation, gated):
  """gated [B, W] = sigmoid(preactivation[:, :W]) * tanh(preactivation[:,
  W:]), preactivation [B, 2W] (as `decoder_block.gate`)."""
  batch, width = gated.shape
  half = _f32(0.5)
  for b in range(batch):
    filter_part = preactivation[b, :width]
    gate_part = preactivation[b, width:]
    for c in range(width):
      gated[b, c] = ((half * _tanh(half * filter_part[c]) + half)
                     * _tanh(gate_part[c]))


@_compiled
def _add_product(matrix, scale, inputs, out):
  """out[b, o] += scale[o] * sum_c matrix[o, c] inputs[b, c].

  matrix [O, I] float32 or int8, scale [O], inputs [B, I], out [B, O]. Eight
  rows at a time: eight independent sums hide the FMA's latency.
  """
  rows, columns = matrix.shape
  batch = inputs.shape[0]
  o = 0
  while o + 8 <= rows:
    for b in range(batch):
      x = inputs[b]
      a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _f32(0)
      for c in range(columns):
        xc = x[c]
        a0 += _f32(matrix[o, c]) * xc
        a1 += _f32(matrix[o + 1, c]) * xc
        a2 += _f32(matrix[o + 2, c]) * xc
        a3 += _f32(matrix[o + 3, c]) * xc
        a4 += _f32(matrix[o + 4, c]) * xc
        a5 += _f32(matrix[o + 5, c]) * xc
        a6 += _f32(matrix[o + 6, c]) * xc
        a7 += _f32(matrix[o + 7, c]) * xc
      out[b, o] += a0 * scale[o]
      out[b, o + 1] += a1 * scale[o + 1]
      out[b, o + 2] += a2 * scale[o + 2]
      out[b, o + 3] += a3 * scale[o + 3]
      out[b, o + 4] += a4 * scale[o + 4]
      out[b, o + 5] += a5 * scale[o + 5]
      out[b, o + 6] += a6 * scale[o + 6]
      out[b, o + 7] += a7 * scale[o + 7]
    o += 8
  while o < rows:
    for b in range(batch):
      total = _f32(0)
      for c in range(columns):
        total += _f32(matrix[o, c]) * inputs[b, c]
      out[b, o] += total * scale[o]
    o += 1


@_compiled
def _run_steps(start, start_scale, start_bias, skip_start, skip_start_scale,
               skip_start_bias, taps, taps_scale, res_skip, res_skip_scale,
               res_skip_bias, out1, out1_scale, logits_matrix, logits_scale,
               logits_bias, layer_terms, out_term, hop_length, dilations,
               offsets, rings, start_past, position, x_prev, forced, noise,
               temperature, audio_table, input_table, audio, logits_out):
  """Steps from t = position: sampling (forced has 0 rows; audio [steps, B]
  gets the samples) or teacher forcing (forced [steps, B] are the network
  inputs of the samples predicted; logits_out [steps, B, 256] gets the
  logits). x_prev [B], start_past and rings (`host_loop.Rings`) are updated
  in place. Matrices are `NumbaDecoder`'s, [out, in] with a scale per row.
  """
  layers = taps.shape[0]
  width = res_skip.shape[2]
  skip = skip_start.shape[0]
  batch = x_prev.shape[0]
  steps = max(forced.shape[0], audio.shape[0])
  residual = np.empty((batch, width), np.float32)
  skips = np.empty((batch, skip), np.float32)
  tapped = np.empty((batch, 3 * width), np.float32)
  preactivation = np.empty((batch, 2 * width), np.float32)
  gated = np.empty((batch, width), np.float32)
  res_skip_out = np.empty((batch, width + skip), np.float32)
  hidden = np.empty((batch, out1.shape[0]), np.float32)
  logits = np.empty((batch, logits_matrix.shape[0]), np.float32)
  zero = _f32(0)
  for i in range(steps):
    t = position + i
    frame = t // hop_length
    for b in range(batch):
      x = x_prev[b]
      for c in range(width):
        residual[b, c] = start_scale[c] * (
            _f32(start[c, 0]) * start_past[b, 0]
            + _f32(start[c, 1]) * start_past[b, 1]
            + _f32(start[c, 2]) * x) + start_bias[c]
      start_past[b, 0] = start_past[b, 1]
      start_past[b, 1] = x
      skips[b] = skip_start_bias
    _add_product(skip_start, skip_start_scale, residual, skips)
    for layer in range(layers):
      oldest, middle = _ring_slots(offsets[layer], dilations[layer], t)
      for b in range(batch):
        for c in range(width):
          tapped[b, c] = rings[oldest, b, c]
          tapped[b, width + c] = rings[middle, b, c]
          tapped[b, 2 * width + c] = residual[b, c]
          rings[oldest, b, c] = residual[b, c]
        preactivation[b] = layer_terms[frame, layer, b]
        res_skip_out[b] = res_skip_bias[layer]
      _add_product(taps[layer], taps_scale[layer], tapped, preactivation)
      _gate(preactivation, gated)
      _add_product(res_skip[layer], res_skip_scale[layer], gated,
                   res_skip_out)
      for b in range(batch):
        for c in range(width):
          residual[b, c] += res_skip_out[b, c]
        for c in range(skip):
          skips[b, c] += res_skip_out[b, width + c]
    for b in range(batch):
      for c in range(skip):
        skips[b, c] = max(skips[b, c], zero)
      hidden[b] = out_term[frame, b]
    _add_product(out1, out1_scale, skips, hidden)
    for b in range(batch):
      for c in range(hidden.shape[1]):
        hidden[b, c] = max(hidden[b, c], zero)
      logits[b] = logits_bias
    _add_product(logits_matrix, logits_scale, hidden, logits)
    for b in range(batch):
      if forced.shape[0]:
        logits_out[i, b] = logits[b]
        x_prev[b] = forced[i, b]
        continue
      best = 0
      best_value = _f32(-np.inf)
      for o in range(logits.shape[1]):
        value = logits[b, o] + temperature * noise[i, b, o]
        if value > best_value:
          best_value = value
          best = o
      audio[i, b] = audio_table[best]
      x_prev[b] = input_table[best]


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
    [out, in], int8 where `weights` is 'int8' (but `litert.UNQUANTIZED`),
    float32 otherwise. The taps' and out1's biases are in `project_code`'s
    terms.
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
    if weights == 'int8' and name not in litert.UNQUANTIZED:
      matrix, scale = _quantized(matrix)
    else:
      scale = np.ones(matrix.shape[:-1], np.float32)
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
    threads: Groups of rows run at once; default one per core.
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
    self._threads = threads or host_loop.cores()
    self._executor = None
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

  def _run(self, state, x_prev, projected, forced, noise, temperature,
           audio, logits):
    """Runs `_run_steps` from the state, which it advances in place;
    returns the last network input [batch].

    A batch of two or more rows is split into one group of rows per core,
    each run by `_run_steps` on a thread of its own (it releases the GIL);
    a row's numbers do not depend on the rows beside it.
    """
    x_prev = np.array(x_prev, np.float32)
    steps = max(len(forced), len(audio))
    last = state[0] + steps - 1
    if last // self.config.hop_length >= len(projected[0]):
      raise ValueError(f'step {last} needs code frame '
                       f'{last // self.config.hop_length}; the code has '
                       f'{len(projected[0])}.')
    groups = np.array_split(np.arange(len(x_prev)),
                            min(len(x_prev), self._threads))
    # The arrays with a batch axis: (array, its batch axis, whether `_run_
    # steps` writes it). Each group runs on contiguous copies of its rows,
    # and what it wrote is copied back.
    batched = [(state[2], 1, True), (state[1], 0, True), (x_prev, 0, True),
               (forced, 1, False), (noise, 1, False), (audio, 1, True),
               (logits, 1, True), (projected[0], 2, False),
               (projected[1], 1, False)]
    if len(groups) == 1:
      self._run_group([array for array, _, _ in batched], state[0],
                      temperature)
    else:
      parts = [[np.ascontiguousarray(np.take(array, rows, axis))
                for array, axis, _ in batched] for rows in groups]
      list(self._pool().map(
          lambda group: self._run_group(group, state[0], temperature),
          parts))
      for rows, group in zip(groups, parts):
        for (array, axis, written), part in zip(batched, group):
          if written:
            index = [slice(None)] * array.ndim
            index[axis] = rows
            array[tuple(index)] = part
    state[0] += steps
    return x_prev

  def _run_group(self, arrays, position, temperature):
    """`_run_steps` over one group's arrays (in `_run`'s order)."""
    rings, start_past, x_prev, forced, noise, audio, logits, layer_terms, \
        out_term = arrays
    start, skip_start, taps, res_skip, out1, logits_layer = (
        self._matrices[name] for name in ('start', 'skip_start', 'taps',
                                          'res_skip', 'out1', 'logits'))
    _run_steps(*start, *skip_start, *taps[:2], *res_skip, *out1[:2],
               *logits_layer, layer_terms, out_term, self.config.hop_length,
               self._rings.dilations, self._rings.offsets, rings, start_past,
               position, x_prev, forced, noise, np.float32(temperature),
               self._audio_table, self._input_table, audio, logits)

  def _pool(self):
    """The threads that run the groups, started on first use."""
    if self._executor is None:
      self._executor = concurrent.futures.ThreadPoolExecutor(
          self._threads, thread_name_prefix='numba_loop')
    return self._executor

  def sample_loop(self, state, x_prev, projected, num_steps, seed,
                  temperature):
    """Samples `num_steps` samples; returns (state, last input, audio
    [num_steps, batch]), with the seed's noise (`host_loop.SeededNoise`).
    """
    batch = len(x_prev)
    noise = host_loop.SeededNoise(seed, batch).span(state[0], num_steps)
    audio = np.zeros([num_steps, batch], np.float32)
    x_prev = self._run(state, x_prev, projected,
                       np.zeros([0, batch], np.float32), noise, temperature,
                       audio, np.zeros([0, batch, 256], np.float32))
    return state, x_prev, audio

  def forced_loop(self, state, x_prev, projected, inputs):
    """Teacher forcing over inputs [steps, batch] (network inputs of the
    samples predicted); returns (state, last input, logits [steps, batch,
    256])."""
    inputs = np.ascontiguousarray(inputs, np.float32)
    steps, batch = inputs.shape
    logits = np.zeros([steps, batch, self.config.quantization_channels],
                      np.float32)
    x_prev = self._run(state, x_prev, projected, inputs,
                       np.zeros([0, batch, 256], np.float32), 0.0,
                       np.zeros([0, batch], np.float32), logits)
    return state, x_prev, logits
