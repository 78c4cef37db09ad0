r"""Speed of generation and encoding on this machine, as a Markdown table.

Measures, in one process so the ratios are fair:
* the sample loop (`Synthesizer`) at several batch sizes for each weight
  format in each runtime timed (`cases`): ms per sample-step, audio-seconds
  per wall-second, and the step against the XLA loop's float32 step of the
  same batch and against the same case's batch 1. A timed run generates
  `steps` samples of each note up to batch `FULL_BATCH`, and above it as
  many sample-steps (batch x steps) as there, at least `MIN_STEPS` steps
  (`timed_steps`), so that large batches take about as long as batch 16;
  each call's fixed cost is left out (`time_loop`);
* the naive baseline: a Python loop calling a per-step graph function and
  sampling in numpy, as the reference's `nsynth_generate` does;
* the floor of each step: the longer of the bytes of weights it reads
  (`read_bytes`) over the measured read bandwidth of a buffer of the same
  size, and its arithmetic (`step_flops`, which grows with the batch) at
  the product rate of the step's own products on this CPU
  (`product_seconds`): int8 for LiteRT's int8 step where the CPU has int8
  dot-product instructions (`INT8_FLAGS`), measured as that step runs its
  products (`int8_rate`), float32 (`peak_rate`) otherwise;
* encoding 64,000 samples (4 s), against its compute floor: the encoder's
  arithmetic (`encoder_flops`, its blocks by Winograd's F(4, 3) as
  `NSynthEncoder.infer` runs them) at the float32 product rate
  (`peak_rate`), since its products share the cores as the 1,024-square
  product does; and the encoder network alone, by Winograd against
  TensorFlow's convolutions, which Magenta's graph runs (`time_encoder`);
* the sample loop keeping each sample's expected value (float32 in its
  default runtime, at the first and last batch size), and two passes over
  a note once generated: the harmonic filter (`time_harmonic_filter`), and
  its expected values (`time_expected_values`, one teacher-forced pass of
  the decoder) against their floor, a step's products for every sample at
  the float32 product rate.
"""

import os
import platform
import time

import numpy as np
import tensorflow as tf

from magenta_wavenet import cpu
from magenta_wavenet.model import winograd
from magenta_wavenet.sound import dsp
from magenta_wavenet.sound.harmonics import harmonic_filter
from magenta_wavenet.sound.pitch import f0
from magenta_wavenet.synthesis import generation
from magenta_wavenet.synthesis import litert
from magenta_wavenet.synthesis.expectation import expected_audio
from magenta_wavenet.synthesis.generation import Synthesizer
from magenta_wavenet.synthesis.incremental import IncrementalDecoder

ENCODE_SAMPLES = 64000  # the encoding timed: one 4 s note at 16 kHz
FILTER_DB = 20.0  # the harmonic filter timed, at the model card's setting
# Batches up to this one time `steps` steps a run; larger ones as many
# sample-steps (batch x steps), but at least MIN_STEPS steps.
FULL_BATCH = 16
MIN_STEPS = 16
# The /proc/cpuinfo flags of the instructions that set a product's rate:
# 256- and 512-bit vectors, int8 dot products (VNNI), bfloat16 dot products,
# and AMX's tiles with their int8 and bfloat16 products.
PRODUCT_FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16',
                 'amx_tile', 'amx_int8', 'amx_bf16')
# Any of these: int8 products that beat float32's FMA (4 products per 32-bit
# lane and instruction, or AMX's tiles), which LiteRT's int8 kernels use.
INT8_FLAGS = ('avx512_vnni', 'avx_vnni', 'amx_int8')
INT8_ROWS = 1024  # rows of `int8_rate`'s product


def fastest(function, repeats):
  """Minimum wall time in seconds of `repeats` calls (after one warm-up)."""
  function()
  times = []
  for _ in range(repeats):
    started = time.perf_counter()
    function()
    times.append(time.perf_counter() - started)
  return min(times)


def read_bandwidth(num_bytes, repeats=5):
  """Bytes per second that a full read (sum) of a buffer of this size takes."""
  buffer = tf.random.uniform([num_bytes // 4])
  total = tf.function(tf.reduce_sum)
  return num_bytes / fastest(lambda: total(buffer).numpy(), repeats)


def encoder_flops(config, samples, products_per_sample=None):
  """Floating-point operations (2 per multiply-add) of encoding `samples`.

  Every convolution's taps x input x output channels at every sample:
  `ae_startconv` (1 input channel), each layer's dilated convolution and its
  1x1 `res`, and `ae_bottleneck`. Biases, ReLUs, sums and the pool (a few
  operations per value, not per weight) are left out.

  Args:
    config: A `WaveNetConfig`.
    samples: Audio samples encoded.
    products_per_sample: width x width products per sample of each layer's
      dilated convolution: by default its taps;
      `winograd.PRODUCTS_PER_SAMPLE` for Winograd's F(4, 3).
  """
  width, taps = config.encoder_width, config.encoder_filter_length
  dilated = taps if products_per_sample is None else products_per_sample
  per_sample = (taps * width
                + config.encoder_layers * (dilated * width + width) * width
                + width * config.bottleneck_width)
  return 2 * samples * per_sample


def peak_rate(repeats=5):
  """FLOP/s of numpy's float32 product of two 1,024 x 1,024 matrices: the
  rate this machine's cores reach on a product large enough for the best
  kernels, the measured stand-in for their FMA peak."""
  generator = np.random.default_rng(0)
  left, right = (generator.standard_normal((1024, 1024), np.float32)
                 for _ in range(2))
  return 2 * 1024**3 / fastest(lambda: left @ right, repeats)


def int8_rate(repeats=5):
  """FLOP/s (2 per multiply-add) of LiteRT's dynamic-range int8 product, as
  the int8 LiteRT step runs its products: a fully-connected layer of
  `INT8_ROWS` float32 rows through a 1,024-square matrix of int8 weights
  (a float32 scale per output), each row quantized to int8 on the fly, run
  by XNNPACK on every core."""
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  generator = np.random.default_rng(0)
  matrix = tf.constant(generator.standard_normal((1024, 1024), np.float32))
  product = tf.function(
      lambda rows: tf.matmul(rows, matrix),
      input_signature=[tf.TensorSpec([INT8_ROWS, 1024], tf.float32)])
  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [product.get_concrete_function()], product)
  converter.optimizations = [tf.lite.Optimize.DEFAULT]
  interpreter = Interpreter(model_content=converter.convert(),
                            num_threads=cpu.cores())
  interpreter.allocate_tensors()
  interpreter.set_tensor(
      interpreter.get_input_details()[0]['index'],
      generator.standard_normal((INT8_ROWS, 1024), np.float32))
  return 2 * INT8_ROWS * 1024**2 / fastest(interpreter.invoke, repeats)


def product_rates(flags):
  """{'float32': `peak_rate`, 'int8': `int8_rate`} in FLOP/s; 'int8' is the
  float32 rate (not measured) unless `flags` (`cpu_flags`) has one of
  `INT8_FLAGS`."""
  rates = {'float32': peak_rate()}
  rates['int8'] = (int8_rate() if flags.intersection(INT8_FLAGS)
                   else rates['float32'])
  return rates


def _step_matrices(fast, leaving_out=()):
  """The matrices (not the biases) of `fast.step_weights()` but the layers
  named in leaving_out."""
  return [tensor for name, pairs in fast.step_weights().items()
          if name not in leaving_out
          for tensor in tf.nest.flatten(pairs) if tensor.shape.rank == 2]


def step_flops(fast, batch, leaving_out=()):
  """Floating-point operations of the products of one step of `batch` rows
  (but those of the layers named in leaving_out): 2 per multiply-add, one
  multiply-add per matrix entry of the step and batch row, whatever format
  the weights are kept in."""
  return 2 * batch * sum(int(matrix.shape.num_elements())
                         for matrix in _step_matrices(fast, leaving_out))


def product_seconds(fast, batch, weights, runtime, rates):
  """Seconds of one step's products at this CPU's product rates.

  LiteRT's int8 step multiplies its quantized matrices in int8
  (rates['int8']) and `litert.UNQUANTIZED` in float32; every other step
  multiplies in float32 (rates['float32']): the Numba loop widens float16
  and int8 weights to float32 as it reads them, and LiteRT unpacks float16
  weights to float32 when it loads them.

  Args:
    fast: The model's `IncrementalDecoder`.
    batch: Batch rows of the step.
    weights: The weight format (one of `litert.WEIGHT_FORMATS`).
    runtime: Where the step runs (one of `generation.RUNTIMES`).
    rates: `product_rates`: {'float32': FLOP/s, 'int8': FLOP/s}.
  """
  total = step_flops(fast, batch)
  if weights == 'int8' and runtime == 'litert':
    int8 = step_flops(fast, batch, litert.UNQUANTIZED)
    return int8 / rates['int8'] + (total - int8) / rates['float32']
  return total / rates['float32']


def read_bytes(fast, weights, runtime):
  """Bytes of weights one step reads with `weights` (a `WEIGHT_FORMATS`)
  in `runtime` (a `generation.RUNTIMES`).

  float32: every step matrix and bias in 4 bytes (`fast.weight_bytes`).
  float16: 2 bytes per matrix entry in the Numba loop, which reads them as
  they are; in LiteRT 4, as its XNNPACK kernels unpack 16-bit weights to
  float32 when the model loads. int8: 1 byte per entry of the quantized
  matrices and one float32 scale per row of theirs, 4 bytes for the rest
  (`litert.UNQUANTIZED` and the biases).

  Args:
    fast: The model's `IncrementalDecoder`.
    weights: The weight format.
    runtime: Where the step runs.
  """
  litert.check_weight_format(weights)
  if weights == 'float32' or (weights == 'float16' and runtime != 'numba'):
    return fast.weight_bytes
  matrices = _step_matrices(
      fast, () if weights == 'float16' else litert.UNQUANTIZED)
  entries = sum(int(m.shape.num_elements()) for m in matrices)
  if weights == 'float16':
    return fast.weight_bytes - 2 * entries
  rows = sum(int(m.shape[0]) for m in matrices)
  return fast.weight_bytes - 3 * entries + 4 * rows


def cases(config, weight_formats, runtimes=None):
  """The (weights, runtime) pairs to time, formats first.

  Each format in each of `runtimes` that runs it (`generation.RUNTIMES`
  order); without `runtimes`, each format in its `generation.
  default_runtime`, and float32 in the XLA loop too: the reference that
  every 'vs float32' ratio divides by.
  """
  pairs = []
  for weights in weight_formats:
    if runtimes:
      chosen = [runtime for runtime in generation.RUNTIMES
                if runtime in runtimes
                and generation.runs(runtime, weights)]
    else:
      chosen = {generation.default_runtime(config, weights)}
      if weights == 'float32':
        chosen.add('xla')
      chosen = [runtime for runtime in generation.RUNTIMES
                if runtime in chosen]
    pairs += [(weights, runtime) for runtime in chosen]
  return pairs


def timed_steps(batch, steps):
  """Steps of a timed run at this batch size: `steps` up to batch
  `FULL_BATCH`; above it steps x FULL_BATCH / batch (as many sample-steps),
  but at least `MIN_STEPS` (and at most `steps`)."""
  if batch <= FULL_BATCH:
    return steps
  return min(steps, max(MIN_STEPS, steps * FULL_BATCH // batch))


def time_loop(model, batch, weights, runtime, steps, repeats,
              expected_value=False):
  """ms per sample-step of `Synthesizer.generate` at this batch size (with
  each sample's expected value kept too, when `expected_value`).

  The fastest of `repeats` calls generating `steps` (at least 2) samples of
  each note, less the fastest of as many generating one, over steps - 1:
  a call's fixed cost (checking the weights, projecting the code, the zero
  state: for h512_bo16 0.05-0.15 s at batch 1, 0.2-0.8 s at batch 512, by
  runtime) is left out, as a note's thousands of steps spread it in use.
  """
  hop = model.config.hop_length
  frames = max(1, -(-steps // hop))
  synthesizer = Synthesizer(model, weights, chunk_size=frames * hop,
                            runtime=runtime)
  code = np.random.default_rng(0).normal(
      0, 0.1, (batch, frames, model.config.code_width)).astype(
          np.float32)

  def run(length):
    return fastest(lambda: synthesizer.generate(
        code, seed=0, lengths=[length] * batch,
        expected_value=expected_value), repeats)

  return 1000 * (run(steps) - run(1)) / (steps - 1)


def time_naive_baseline(model, steps):
  """ms per step of a Python loop over a per-step graph function, sampling
  in numpy (batch 1), as the reference generates."""
  fast = IncrementalDecoder(model.decoder)
  step = tf.function(lambda state, x_prev, frame: fast.step(state, x_prev,
                                                            frame))
  projected = fast.project_code(np.zeros(
      [1, 1, model.config.code_width], np.float32))
  frame = IncrementalDecoder.frame(projected, 0)
  rng = np.random.default_rng(0)

  def run():
    state, x_prev = fast.init_state(1), np.zeros([1], np.float32)
    for _ in range(steps):
      logits, state = step(state, tf.constant(x_prev), frame)
      probabilities = tf.nn.softmax(logits).numpy()[0].astype(np.float64)
      sample = np.searchsorted(np.cumsum(probabilities), rng.random())
      audio = dsp.mu_law_decode(min(sample, 255) - 128)
      x_prev = dsp.to_network_input(dsp.mu_law_encode(audio)).numpy()[None]
  return 1000 * fastest(run, 1) / steps


def _note():
  """The encodings' input: `ENCODE_SAMPLES` samples of noise [1, samples]."""
  return np.random.default_rng(0).uniform(
      -0.5, 0.5, (1, ENCODE_SAMPLES)).astype(np.float32)


def time_encoding(model, repeats):
  """Seconds to encode `ENCODE_SAMPLES` samples (one 4 s note)."""
  audio = _note()
  return fastest(lambda: model.encode(audio).numpy(), repeats)


def time_encoder(model, repeats):
  """Seconds of the encoder network alone on the same note, eagerly, two
  ways: (`NSynthEncoder.infer`, its blocks by Winograd's F(4, 3), as
  `encode` runs it; the Keras layers, TensorFlow's convolutions, the
  operations Magenta's graph runs)."""
  inputs = dsp.to_network_input(dsp.mu_law_encode(_note()))
  return (fastest(lambda: model.encoder.infer(inputs).numpy(), repeats),
          fastest(lambda: model.encoder(inputs).numpy(), repeats))


def _harmonic_note(sample_rate):
  """`ENCODE_SAMPLES` samples of a 220 Hz tone of 10 harmonics under white
  noise 20 dB below it: a note the harmonic filter filters in every
  frame."""
  t = np.arange(ENCODE_SAMPLES) / sample_rate
  tone = sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 11))
  noise = np.random.default_rng(0).normal(0.0, np.std(tone) / 10, t.shape)
  return (0.3 * (tone + noise) / np.max(np.abs(tone))).astype(np.float32)


def time_harmonic_filter(sample_rate, repeats):
  """Seconds of `harmonics.harmonic_filter` at `FILTER_DB` on one 4 s
  note (its pYIN by the compiled graph, traced in `fastest`'s warm-up),
  and of librosa's pYIN on the same note, which it replaces."""
  note = _harmonic_note(sample_rate)
  return (fastest(lambda: harmonic_filter(note, FILTER_DB, sample_rate),
                  repeats),
          fastest(lambda: f0(note, sample_rate), repeats))


def time_expected_values(model, repeats):
  """Seconds of `expectation.expected_audio` over one 4 s note (the
  harmonic filter's, conditioned on its own code), as it gives the expected
  values of audio drawn before (a resumed run's prime)."""
  note = _harmonic_note(model.config.sample_rate)[np.newaxis]
  codes = model.encode(note).numpy()
  return fastest(lambda: expected_audio(model.decoder, codes, note), repeats)


def _cpuinfo():
  """The fields of /proc/cpuinfo's first processor ({} without one)."""
  fields = {}
  if os.path.exists('/proc/cpuinfo'):
    with open('/proc/cpuinfo') as handle:
      for line in handle:
        key, _, value = line.partition(':')
        fields.setdefault(key.strip(), value.strip())
  return fields


def cpu_flags():
  """The instruction sets /proc/cpuinfo lists (its 'flags'), as a set of
  names such as 'avx512_vnni'; empty without /proc/cpuinfo."""
  return set(_cpuinfo().get('flags', '').split())


def machine_line():
  """The CPU as /proc/cpuinfo names it, with its family and model (AMD's
  Zen 3 and Zen 4 EPYCs share a name), its widest vector instructions and
  its L2 cache per core, which set what the kernels reach; the core count;
  TensorFlow's version; today's date."""
  cpu_name, details = platform.processor() or platform.machine(), []
  fields = _cpuinfo()
  if 'model name' in fields:
    cpu_name = fields['model name']
  if 'cpu family' in fields and 'model' in fields:
    details.append(f'family {fields["cpu family"]} model {fields["model"]}')
  flags = cpu_flags()
  if 'avx512f' in flags or 'avx2' in flags:
    details.append('AVX-512' if 'avx512f' in flags else 'AVX2')
  l2 = '/sys/devices/system/cpu/cpu0/cache/index2/size'
  if os.path.exists(l2):
    with open(l2) as handle:
      details.append(f'L2 {handle.read().strip()}B per core')
  if details:
    cpu_name += f' ({", ".join(details)})'
  return (f'{cpu_name}, {os.cpu_count()} cores, TensorFlow {tf.__version__}, '
          f'{time.strftime("%Y-%m-%d")}')


def rates_sentence(rates, flags):
  """The header's sentence on the product rates (`product_rates`, FLOP/s)
  and the product instructions of this CPU (`cpu_flags`)."""
  present = [flag for flag in PRODUCT_FLAGS if flag in flags]
  missing = [flag for flag in PRODUCT_FLAGS if flag not in flags]
  source = ('float32\'s: no int8 dot-product instructions'
            if not flags.intersection(INT8_FLAGS) else
            'LiteRT\'s dynamic-range int8 fully-connected layer, '
            f'{INT8_ROWS:,} rows through 1,024-square int8 weights, XNNPACK '
            f'on {cpu.cores()} threads')
  return (f'Products: float32 at {rates["float32"] / 1e9:.4g} GFLOP/s '
          f'(numpy, 1,024-square matrices), int8 at '
          f'{rates["int8"] / 1e9:.4g} GFLOP/s ({source}). Product '
          'instructions: '
          f'{", ".join(present) or "none"}'
          f'{" (not " + ", ".join(missing) + ")" if missing else ""}; no '
          'runtime here multiplies in bfloat16.')


LOOP_NAMES = {'xla': 'XLA loop', 'numba': 'Numba loop',
              'litert': 'LiteRT loop'}


def run_benchmark(model, batch_sizes, weight_formats, steps, repeats,
                  baseline_steps, runtimes=None):
  """Runs every measurement.

  The 'vs float32' column needs the XLA loop with float32 among the `cases`
  and 'vs batch 1' batch 1 among `batch_sizes` ('-' otherwise).

  Args:
    model: The `NSynthAutoencoder` timed.
    batch_sizes: Batch sizes to time, ints.
    weight_formats: Weight formats to time (`litert.WEIGHT_FORMATS`).
    steps: Steps of a timed run up to batch `FULL_BATCH`, at least 2
      (`timed_steps` at larger batches).
    repeats: Timed runs per case; the fastest counts.
    baseline_steps: Steps of the naive baseline.
    runtimes: Runtimes to time each format in (`cases`).

  Returns:
    (the Markdown report as a string, the step times {(weights, runtime):
    {batch: ms}}, as `batch_choice.save_timings` keeps them).
  """
  sample_rate = model.config.sample_rate
  fast = IncrementalDecoder(model.decoder)
  float_bytes = fast.weight_bytes
  bandwidth = read_bandwidth(max(float_bytes, 256 * 2**20))
  flags = cpu_flags()
  rates = product_rates(flags)
  baseline = time_naive_baseline(model, baseline_steps)
  large = sorted(batch for batch in set(batch_sizes) if batch > FULL_BATCH)
  lines = [
      f'Model `{model.config.name}` ({model.count_params():,} parameters), '
      f'{machine_line()}.',
      f'Memory read bandwidth {bandwidth / 1e9:.1f} GB/s; decoder weights '
      f'{float_bytes / 1e6:.1f} MB ({float_bytes:,} bytes of float32), all '
      f'read once per step. {rates_sentence(rates, flags)} '
      f'{step_flops(fast, 1) / 1e6:.4g} MFLOP per step and batch row. The '
      'floor is the longer of the bytes a step reads / bandwidth and its '
      'FLOP / the rate of its products (int8 for LiteRT\'s int8 step, but '
      'its float32 output layers; float32 for every other step); weights '
      'that fit in cache are read faster, so small models can beat it. '
      f'A timed run is {steps} steps up to batch {FULL_BATCH}'
      + (', then as many sample-steps (batch x steps): '
         + ', '.join(f'{timed_steps(batch, steps)} at batch {batch}'
                     for batch in large) if large else '')
      + '; a step is a run\'s time less a one-step call\'s, over its steps '
      'less one.',
      '',
      '| generation | batch | ms / step | samples / s | audio s / wall s '
      '| speed-up vs baseline | vs float32 | vs batch 1 | floor ms / step '
      '| step / floor |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      _row('naive baseline (Python loop, per-step graph call)', 1, baseline,
           baseline, None, None, float_bytes / bandwidth * 1000,
           sample_rate)]
  timings = {}
  for weights, runtime in cases(model.config, weight_formats, runtimes):
    memory_floor = read_bytes(fast, weights, runtime) / bandwidth * 1000
    batch_one = None
    for batch in batch_sizes:
      floor = max(memory_floor, 1000 * product_seconds(
          fast, batch, weights, runtime, rates))
      step_ms = time_loop(model, batch, weights, runtime,
                          timed_steps(batch, steps), repeats)
      timings.setdefault((weights, runtime), {})[batch] = step_ms
      if batch == 1:
        batch_one = step_ms
      lines.append(_row(f'{LOOP_NAMES[runtime]}, {weights} weights', batch,
                        step_ms, baseline,
                        timings.get(('float32', 'xla'), {}).get(batch),
                        batch_one, floor, sample_rate))
  peak = rates['float32']
  encode_seconds = time_encoding(model, repeats)
  flops = encoder_flops(model.config, ENCODE_SAMPLES)
  winograd_flops = encoder_flops(model.config, ENCODE_SAMPLES,
                                 winograd.PRODUCTS_PER_SAMPLE)
  lines += ['', f'Encoding {ENCODE_SAMPLES:,} samples '
            f'({ENCODE_SAMPLES / sample_rate:g} s) at batch 1: '
            f'{encode_seconds * 1000:.4g} ms '
            f'({ENCODE_SAMPLES / sample_rate / encode_seconds:.1f}x real '
            'time); '
            f'compute floor {winograd_flops / peak * 1000:.4g} ms '
            f'({winograd_flops / 1e9:.4g} GFLOP with the blocks by '
            f'Winograd\'s {winograd.NAME}, {flops / 1e9:.4g} by the taps, at '
            f'{peak / 1e9:.4g} GFLOP/s, the float32 product rate above): '
            f'{encode_seconds * peak / winograd_flops:.2f}x the floor.']
  winograd_seconds, convolution_seconds = time_encoder(model, repeats)
  lines += ['', f'The encoder network alone on the same note: '
            f'{winograd_seconds * 1000:.4g} ms by Winograd\'s {winograd.NAME} '
            f'(`encode`), {convolution_seconds * 1000:.4g} ms by '
            'TensorFlow\'s convolutions (the Keras layers, the operations '
            'Magenta\'s graph runs): '
            f'{winograd_seconds / convolution_seconds:.2f}x.']
  filter_seconds, pyin_seconds = time_harmonic_filter(sample_rate, repeats)
  lines += ['', f'The harmonic filter ({FILTER_DB:g} dB, '
            '`--harmonic_filter_db`) on a 4 s note after it is generated: '
            f'{filter_seconds * 1000:.4g} ms '
            f'({ENCODE_SAMPLES / sample_rate / filter_seconds:.1f}x real '
            f'time); librosa\'s pYIN, which its compiled pYIN replaces, '
            f'takes {pyin_seconds * 1000:.4g} ms alone.']
  runtime = generation.default_runtime(model.config, 'float32')
  kept = []
  for batch in sorted({batch_sizes[0], batch_sizes[-1]}):
    step_ms = time_loop(model, batch, 'float32', runtime,
                        timed_steps(batch, steps), repeats,
                        expected_value=True)
    plain = timings.get(('float32', runtime), {}).get(batch)
    kept.append(f'{step_ms:.3g} ms a step at batch {batch}' + (
        f' ({step_ms / plain:.2f}x the step above)' if plain else ''))
  means_seconds = time_expected_values(model, repeats)
  means_flops = ENCODE_SAMPLES * step_flops(fast, 1)
  lines += ['', 'Keeping each sample\'s expected value (`--expected_value`) '
            f'in the {LOOP_NAMES[runtime]} with float32 weights: '
            f'{", ".join(kept)}. Expected values of the same 4 s note drawn '
            f'before (`mw.expected_audio`, one teacher-forced pass): '
            f'{means_seconds * 1000:.4g} ms '
            f'({ENCODE_SAMPLES / sample_rate / means_seconds:.1f}x real '
            f'time); compute floor {means_flops / peak * 1000:.4g} ms (a '
            'step\'s products for every sample, at the float32 product rate '
            f'above): {means_seconds * peak / means_flops:.2f}x the floor.']
  return '\n'.join(lines), timings


def _row(name, batch, step_ms, baseline_ms, float32_ms, batch_one_ms,
         floor_ms, sample_rate):
  """One table row; float32_ms and batch_one_ms (None: '-') are the steps
  that the 'vs float32' and 'vs batch 1' ratios divide by."""
  per_second = batch * 1000 / step_ms
  ratios = [f'{step_ms / other:.2f}' if other else '-'
            for other in (float32_ms, batch_one_ms)]
  return (f'| {name} | {batch} | {step_ms:.3g} | {per_second:,.0f} | '
          f'{per_second / sample_rate:.3f} | '
          f'{batch * baseline_ms / step_ms:.1f}x | {ratios[0]} | '
          f'{ratios[1]} | {floor_ms:.3g} | {step_ms / floor_ms:.2f} |')


def examples_per_second(dataset, num_batches, warmup=5):
  """Examples per second of iterating `dataset` for `num_batches` batches."""
  iterator = iter(dataset)
  for _ in range(warmup):
    next(iterator)
  start = time.perf_counter()
  count = 0
  for _ in range(num_batches):
    try:
      count += int(next(iterator)['audio'].shape[0])
    except StopIteration:
      break
  return count / (time.perf_counter() - start)
