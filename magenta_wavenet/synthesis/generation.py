"""Audio from codes: the sample loop, compiled once.

Each call of a compiled loop runs a chunk of samples (4,096 by default): no
Python and no host round trip per sample. Between chunks the caller gets
progress and the audio so far (to write partial WAVs). In the XLA runtime
the loop is one `tf.function(jit_compile=True)` running a `tf.while_loop`,
and sampling happens in the graph with a stateless RNG seeded by (seed, t),
so the same seed gives the same audio.

Two other loops (`RUNTIMES`) run faster on a CPU (`default_runtime`): one
Numba-compiled function per chunk that every core shares (`numba_loop`,
float32, float16 or int8 weights), and, for int8 weights on the full-size
model, the decoder converted to LiteRT (`litert.LiteRTDecoder`). 16- and
8-bit weights approximate the float32 numbers (the README's "Correctness"
gives the measured differences).

`synthesize` and `incremental_logits` keep one `Synthesizer` per model and
(weights, runtime, chunk_size), so only their first call of each input shape
compiles (or converts); a model's synthesizers go when the model is garbage
collected.
"""

import functools
import sys
import time
import weakref

import numpy as np
import tensorflow as tf

from magenta_wavenet.errors import ConfigError
from magenta_wavenet.model.autoencoder import check_code
from magenta_wavenet.sound import dsp
from magenta_wavenet.synthesis import host_loop
from magenta_wavenet.synthesis import litert
from magenta_wavenet.synthesis import numba_loop
from magenta_wavenet.synthesis.expectation import expected_audio
from magenta_wavenet.synthesis.expectation import expected_value
from magenta_wavenet.synthesis.incremental import IncrementalDecoder
from magenta_wavenet.synthesis.incremental import feedback_tables

DEFAULT_CHUNK = 4096
# Where the sample loop runs: an XLA-compiled while loop (float32), one
# Numba-compiled function (float32, float16, int8), or Python around a LiteRT
# step.
RUNTIMES = ('xla', 'numba', 'litert')
_RUNTIME_WEIGHTS = {'xla': ('float32',), 'numba': numba_loop.FORMATS,
                    'litert': litert.WEIGHT_FORMATS}
# From this batch on, float32 weights run faster than int8 in the Numba
# loop, and they are exact: h64_bo16_pitch at batch 16, 0.45-0.47 against
# 0.65-0.67 ms a step in two runs; at batch 4 int8 was as fast or faster
# (0.116-0.156 against 0.153-0.233 ms), at batch 1 faster in one run of two.
_NUMBA_FLOAT32_BATCH = 8
# From this batch on, `fastest_format`'s rule takes float16 for decoders too
# large for the caches (its docstring says on which cores that held).
_STREAMED_FLOAT16_BATCH = 12


def default_runtime(config, weights):
  """The runtime that runs `weights` fastest on a CPU for a decoder of this
  `WaveNetConfig`: 'numba' for float32 and float16, and for int8 where the
  step weights fit in the caches (`host_loop.fits_in_cache`); 'litert' for
  int8 on larger decoders. Measured in one run on the 2-core development
  machine, h512_bo16 at batch 1 / 4 / 16, ms a step: float32 14.1 / 17.2 /
  35.1 in the Numba loop against 17.5 / 30.2 / 37.3 in the XLA loop; int8
  5.9 / 10.7 / 26.7 in LiteRT against 7.6 / 12.8 / 26.5 in the Numba loop,
  whose eight rows in flight each stream 1.5 KB of int8 a layer from
  memory. LiteRT unpacks float16 weights to float32 when it loads them, so
  its float16 step is float32's; the Numba loop reads them as they are
  (at batch 1, float16 in the Numba loop against LiteRT, from two runs:
  h512_bo16 7.6 against 14.0 ms, h64_bo16_pitch 0.078 against 0.239). Those
  were Zen 3 cores (AVX2); on Zen 4 cores (AVX-512), with the Numba loop
  prefetching at every batch, int8 still ran faster in LiteRT: 1.81 / 3.88
  / 10.7 against 2.27 / 3.97 / 13.3 ms, in one run."""
  litert.check_weight_format(weights)
  if weights in ('float32', 'float16') or (
      weights == 'int8' and host_loop.fits_in_cache(config)):
    return 'numba'
  return 'litert'


def fastest_format(config, batch_size):
  """The weight format that generates fastest on a CPU at this batch size,
  each in its `default_runtime`, by rule (`batch_choice.best_format` takes
  the benchmark's times on this machine where it has them): 'int8', but
  'float32' for decoders that fit in the caches at batches of 8 or more,
  and 'float16' for larger decoders at batches of 12 or more (h512_bo16 at
  batch 16, in one run on the 2-core development machine's Zen 3 cores:
  17.5 ms a step against 24.4 for float32 and 27.5 for int8 in LiteRT; its
  products compute from the L1 cache while the next weights arrive, and
  float16's come in half the time). Machines differ: on Zen 4 cores
  (AVX-512), LiteRT's int8 ran batch 16 at 10.7 ms against 13.6 for
  float16, which is why the benchmark's own times come first."""
  if host_loop.fits_in_cache(config):
    return 'float32' if batch_size >= _NUMBA_FLOAT32_BATCH else 'int8'
  return 'float16' if batch_size >= _STREAMED_FLOAT16_BATCH else 'int8'


def runs(runtime, weights):
  """Whether `runtime` (one of `RUNTIMES`) runs weights in `weights`."""
  return weights in _RUNTIME_WEIGHTS[runtime]


def check_runtime(runtime, weights=None):
  """Raises ConfigError (a ValueError) unless `runtime` is one of
  `RUNTIMES` and runs `weights` (when given)."""
  if runtime not in RUNTIMES:
    raise ConfigError(f'runtime must be one of {", ".join(RUNTIMES)}; got '
                      f'{runtime!r}.')
  if weights is None:
    return
  litert.check_weight_format(weights)
  if not runs(runtime, weights):
    raise ConfigError(f'The {runtime} runtime runs '
                      f'{", ".join(_RUNTIME_WEIGHTS[runtime])} weights, not '
                      f'{weights}.')


class Synthesizer:
  """Compiled generation loops for one model; reuse it for many calls.

  Each call first copies the model's current weights into the loops'
  variables (`IncrementalDecoder.refresh`), so a synthesizer follows later
  changes of them (`model.set_weights`, training) without compiling again.
  Its loops compile once per batch size and number of code frames. In the
  LiteRT runtime the decoder is converted at construction, and again by a
  call that finds the weights changed.

  Args:
    model: An `NSynthAutoencoder`, or a `litert.LiteRTDecoder` (e.g. an
      exported one, `LiteRTDecoder.load`), which brings its own weights.
    weights: 'float32' (the exact default), 'float16' or 'int8'.
    chunk_size: Samples per loop call; progress and `on_chunk` come once per
      chunk.
    runtime: One of `RUNTIMES`; None picks `default_runtime`.
  """

  def __init__(self, model, weights='float32', chunk_size=DEFAULT_CHUNK,
               runtime=None):
    self.config = model.config
    self.chunk_size = int(chunk_size)
    if isinstance(model, litert.LiteRTDecoder):
      weights, runtime = model.weights, 'litert'
    runtime = runtime or default_runtime(self.config, weights)
    check_runtime(runtime, weights)
    self.weights = weights
    self.runtime = runtime
    # The Keras decoder, for the expected values of a prime (None: a LiteRT
    # decoder alone).
    self.keras_decoder = (None if isinstance(model, litert.LiteRTDecoder)
                          else model.decoder)
    if isinstance(model, litert.LiteRTDecoder):
      self.decoder = model
    elif runtime == 'xla':
      self.decoder = IncrementalDecoder(model.decoder)
      self.sample_chunk = tf.function(self._sample_loop, jit_compile=True)
      self.sample_means_chunk = tf.function(
          functools.partial(self._sample_loop, means=True), jit_compile=True)
      self.forced_chunk = tf.function(self._forced_loop, jit_compile=True)
    elif runtime == 'numba':
      self.decoder = numba_loop.NumbaDecoder(model.decoder, weights)
    else:
      self.decoder = litert.LiteRTDecoder.from_decoder(model.decoder, weights)

  def _frame_at(self, projected, position):
    return IncrementalDecoder.frame(projected,
                                    position // self.config.hop_length)

  def _sample_loop(self, state, x_prev, projected, num_steps, seed,
                   temperature, means=False):
    """Samples `num_steps` (<= chunk_size) samples; returns the new state,
    the last network input and audio [chunk_size, batch] (zeros past
    num_steps), and with `means` the samples' expected values
    [chunk_size, batch] (`expectation.expected_value`) too."""
    batch = tf.shape(x_prev)[0]
    audio = tf.zeros([self.chunk_size, batch])
    kept = tf.zeros([self.chunk_size if means else 0, batch])
    audio_table, input_table = feedback_tables()

    def body(i, state, x_prev, audio, kept):
      position = state[0]
      logits, state = self.decoder.step(state, x_prev,
                                        self._frame_at(projected, position))
      sample_class = _sample(logits, temperature, seed, position)
      sample = tf.gather(audio_table, sample_class)
      x_prev = tf.gather(input_table, sample_class)
      audio = tf.tensor_scatter_nd_update(audio, [[i]], sample[tf.newaxis])
      if means:
        kept = tf.tensor_scatter_nd_update(
            kept, [[i]], expected_value(logits, temperature)[tf.newaxis])
      return i + 1, state, x_prev, audio, kept

    _, state, x_prev, audio, kept = tf.while_loop(
        lambda i, *_: i < num_steps, body, (0, state, x_prev, audio, kept))
    return (state, x_prev, audio) + ((kept,) if means else ())

  def _forced_loop(self, state, x_prev, projected, inputs, num_steps):
    """Teacher forcing: inputs [chunk_size, batch] are the network inputs of
    the samples being predicted; returns the state, the last input and the
    logits [chunk_size, batch, 256]."""
    batch = tf.shape(x_prev)[0]
    logits_out = tf.zeros([self.chunk_size, batch,
                           self.config.quantization_channels])

    def body(i, state, x_prev, logits_out):
      logits, state = self.decoder.step(
          state, x_prev, self._frame_at(projected, state[0]))
      logits_out = tf.tensor_scatter_nd_update(logits_out, [[i]],
                                               logits[tf.newaxis])
      return i + 1, state, inputs[i], logits_out

    _, state, x_prev, logits_out = tf.while_loop(
        lambda i, *_: i < num_steps, body, (0, state, x_prev, logits_out))
    return state, x_prev, logits_out

  def _sample(self, state, x_prev, projected, steps, seed, temperature,
              means=False):
    """Samples `steps` samples: (state, last input, audio [steps, batch],
    and with `means` their expected values [steps, batch], else None)."""
    if self.runtime != 'xla':
      kept = (np.zeros([steps, len(x_prev)], np.float32) if means
              else None)
      state, x_prev, audio = self.decoder.sample_loop(
          state, x_prev, projected, steps, seed, temperature, kept)
      return state, x_prev, audio, kept
    loop = self.sample_means_chunk if means else self.sample_chunk
    state, x_prev, audio, *kept = loop(
        state, x_prev, projected, tf.constant(steps),
        tf.constant(seed, tf.int32), tf.constant(temperature, tf.float32))
    return (state, x_prev, audio[:steps].numpy(),
            kept[0][:steps].numpy() if means else None)

  def _force(self, state, x_prev, projected, inputs):
    """Teacher forcing over inputs [steps, batch]: (state, last input,
    logits [steps, batch, 256])."""
    if self.runtime != 'xla':
      return self.decoder.forced_loop(state, x_prev, projected,
                                      inputs.numpy())
    steps = int(inputs.shape[0])
    padded = tf.pad(inputs, [[0, self.chunk_size - steps], [0, 0]])
    state, x_prev, logits = self.forced_chunk(state, x_prev, projected,
                                              padded, tf.constant(steps))
    return state, x_prev, logits[:steps]

  def _chunks(self, start, stop):
    for begin in range(start, stop, self.chunk_size):
      yield begin, min(self.chunk_size, stop - begin)

  def _teacher_force(self, audio, projected, state, x_prev, keep_logits):
    """Runs the forced loop over audio [batch, samples]; returns the state,
    last input and (if keep_logits) logits [batch, samples, 256]."""
    inputs = dsp.to_network_input(dsp.mu_law_encode(audio))
    inputs = tf.transpose(inputs)  # [samples, batch]
    pieces = []
    for begin, steps in self._chunks(0, int(inputs.shape[0])):
      state, x_prev, logits = self._force(state, x_prev, projected,
                                          inputs[begin:begin + steps])
      if keep_logits:
        pieces.append(logits)
    logits = (tf.transpose(tf.concat(pieces, 0), [1, 0, 2]) if keep_logits
              else None)
    return state, x_prev, logits

  def teacher_forced_logits(self, audio, code):
    """See `incremental_logits`."""
    audio = tf.convert_to_tensor(audio, tf.float32)
    code = tf.convert_to_tensor(code, tf.float32)
    check_code(code, self.config, audio.shape[1])
    self.decoder.refresh()
    state = self.decoder.init_state(audio.shape[0])
    x_prev = np.zeros([audio.shape[0]], np.float32)
    return self._teacher_force(audio, self.decoder.project_code(code),
                               state, x_prev, keep_logits=True)[2]

  def generate(self, codes, temperature=1.0, seed=None, prime=None,
               lengths=None, progress=None, on_chunk=None,
               expected_value=False):
    """See `synthesize` (one batch, no splitting)."""
    codes = np.asarray(codes, np.float32)
    check_code(codes, self.config)
    if expected_value and prime is not None and self.keras_decoder is None:
      raise ConfigError('The expected values of a prime\'s samples need the '
                        'Keras model\'s decoder; a LiteRT decoder alone has '
                        'none.')
    batch, frames = codes.shape[:2]
    total = frames * self.config.hop_length
    lengths = _check_lengths(lengths, batch, total)
    total = max(lengths)
    seed = np.random.SeedSequence().entropy if seed is None else seed
    self.decoder.refresh()
    projected = self.decoder.project_code(codes)
    state = self.decoder.init_state(batch)
    x_prev = np.zeros([batch], np.float32)
    audio = np.zeros([batch, total], np.float32)
    means = np.zeros([batch, total], np.float32) if expected_value else None
    start = 0
    if prime is not None:
      prime = np.asarray(prime, np.float32)
      start = _check_prime(prime, batch, total)
      state, x_prev, _ = self._teacher_force(prime, projected, state, x_prev,
                                             keep_logits=False)
      audio[:, :start] = prime
      if expected_value:
        means[:, :start] = expected_audio(self.keras_decoder, codes, prime,
                                          temperature)
    report = _progress_reporter(progress, total - start)
    for begin, steps in self._chunks(start, total):
      state, x_prev, chunk, chunk_means = self._sample(
          state, x_prev, projected, steps, int(seed) % 2**31, temperature,
          expected_value)
      audio[:, begin:begin + steps] = chunk.T
      if expected_value:
        means[:, begin:begin + steps] = chunk_means.T
      done = begin + steps
      if report:
        report(done - start)
      if on_chunk:
        on_chunk(_trimmed(audio[:, :done], lengths), done)
    return _trimmed(means if expected_value else audio, lengths)


# model -> {(weights, runtime, chunk_size): Synthesizer}, each holding a
# copy of the decoder's weights (see `IncrementalDecoder`). Weak keys: an
# entry lives as long as its model (a synthesizer holds the model's decoder,
# never the model itself).
_SYNTHESIZERS = weakref.WeakKeyDictionary()


def _synthesizer(model, weights, runtime, chunk_size):
  """The `Synthesizer` of `model` for these settings, made on first use."""
  per_model = _SYNTHESIZERS.setdefault(model, {})
  runtime = runtime or default_runtime(model.config, weights)
  key = (weights, runtime, int(chunk_size))
  if key not in per_model:
    per_model[key] = Synthesizer(model, weights, chunk_size, runtime)
  return per_model[key]


def _sample(logits, temperature, seed, position):
  """Draws classes [batch] from softmax(logits / temperature), in the graph.

  Gumbel-max: argmax(logits + temperature * g) with g standard Gumbel noise
  from a stateless RNG keyed by (seed, position), so a seed replays exactly;
  temperature 0 is the argmax.
  """
  uniform = tf.random.stateless_uniform(
      tf.shape(logits), seed=tf.stack([seed, position]),
      minval=np.finfo(np.float32).tiny, maxval=1.0)
  gumbel = -tf.math.log(-tf.math.log(uniform))
  return tf.argmax(logits + temperature * gumbel, axis=-1,
                   output_type=tf.int32)


def _check_lengths(lengths, batch, total):
  if lengths is None:
    return [total] * batch
  lengths = [int(length) for length in lengths]
  if len(lengths) != batch or not all(0 < n <= total for n in lengths):
    raise ValueError(f'lengths must hold {batch} values in [1, {total}], '
                     f'got {lengths}.')
  return lengths


def _check_prime(prime, batch, total):
  if prime.ndim != 2 or prime.shape[0] != batch or prime.shape[1] >= total:
    raise ValueError(f'prime must be [{batch}, samples] with fewer than '
                     f'{total} samples, got {list(prime.shape)}.')
  return prime.shape[1]


def _trimmed(audio, lengths):
  """Zeros each row past its own length (a batch stops at its longest)."""
  audio = audio.copy()
  for row, length in enumerate(lengths):
    audio[row, length:] = 0.0
  return audio


def _progress_reporter(progress, total):
  """Turns `progress` (None/False, True, or a callable) into a callable
  taking the number of samples done, or None."""
  if not progress:
    return None
  started = time.monotonic()

  def report(done):
    elapsed = max(time.monotonic() - started, 1e-9)
    rate = done / elapsed
    left = (total - done) / rate if rate else float('inf')
    if callable(progress):
      progress(done, total, rate)
    else:
      print(f'generated {done}/{total} samples ({100 * done // total}%), '
            f'{rate:,.0f} samples/s, {left:,.0f} s left',
            file=sys.stderr, flush=True)
  return report


def synthesize(model, codes, *, temperature=1.0, seed=None, prime=None,
               lengths=None, batch_size=None, progress=None, on_chunk=None,
               weights='float32', runtime=None, chunk_size=DEFAULT_CHUNK,
               expected_value=False):
  """Generates audio from codes, one sample at a time.

  Calls with the same model, weights, runtime and chunk_size share one
  `Synthesizer` and its compiled loops (see the module docstring).

  Args:
    model: An `NSynthAutoencoder`.
    codes: float32 [batch, frames, code_width]; sample t is conditioned
      on frame t // hop_length.
    temperature: Softmax temperature; 0 picks the most likely class.
    seed: Integer; the same seed gives the same audio. None picks one.
    prime: Optional audio [batch, samples] to continue: the state is warmed by
      teacher forcing on it and it becomes the start of the output (this also
      resumes an interrupted run from its partial output).
    lengths: Optional per-item lengths in samples (files of different
      lengths); each output row is zero past its length and generation stops
      at the longest.
    batch_size: Generate at most this many items at once (memory bound);
      default all.
    progress: True prints samples done, samples/s and time left to stderr
      after each chunk; a callable gets (done, total, samples_per_second).
    on_chunk: Called as on_chunk(audio_so_far [batch, done], done) after each
      chunk, e.g. to write partial WAVs. With batch_size, rows are those of
      the current sub-batch.
    weights: 'float32' (exact), 'float16' or 'int8' (see `Synthesizer`).
    runtime: One of `RUNTIMES`; None picks `default_runtime`.
    chunk_size: Samples per loop call.
    expected_value: Return each sample's expected value under the
      distribution it was drawn from instead of the draw, kept by the loop
      as it draws (a softmax a step), and for the prime's samples by
      `expectation.expected_audio`, so that a run resumed from its partial
      audio returns what the whole run would (to float32 rounding): the
      draws still drive each next step, and `on_chunk` gets them.

  Returns:
    float32 numpy array [batch, frames * hop_length] in [-1, 1] (or
    [batch, max(lengths)]).
  """
  codes = np.asarray(codes, np.float32)
  check_code(codes, model.config)
  synthesizer = _synthesizer(model, weights, runtime, chunk_size)
  batch = codes.shape[0]
  step = batch_size or batch
  outputs = []
  for begin in range(0, batch, step):
    rows = slice(begin, begin + step)
    outputs.append(synthesizer.generate(
        codes[rows], temperature=temperature, seed=seed,
        prime=None if prime is None else np.asarray(prime)[rows],
        lengths=None if lengths is None else list(lengths)[rows],
        progress=progress, on_chunk=on_chunk, expected_value=expected_value))
  width = max(output.shape[1] for output in outputs)
  return np.concatenate(
      [np.pad(o, [[0, 0], [0, width - o.shape[1]]]) for o in outputs])


def incremental_logits(model, audio, code, weights='float32', runtime=None,
                       chunk_size=DEFAULT_CHUNK):
  """Runs the incremental decoder over given audio (teacher forcing).

  With float32 weights it equals `model.decoder_logits(audio, code)` up to
  float32 rounding: the correctness claim of the fast path. With float16 or
  int8 weights it measures their error on real audio.

  Args:
    model: An `NSynthAutoencoder`.
    audio: float32 [batch, samples].
    code: float32 [batch, frames, code_width], frames * hop >= samples.
    weights: 'float32', 'float16' or 'int8' (see `Synthesizer`).
    runtime: One of `RUNTIMES`; None picks `default_runtime`.
    chunk_size: Samples per loop call.

  Returns:
    float32 tensor [batch, samples, 256].
  """
  return _synthesizer(model, weights, runtime,
                      chunk_size).teacher_forced_logits(
      audio, code)
