"""The Numba loop: where it runs, its pieces against their definitions, and
its weights following the model's."""

import concurrent.futures
import dataclasses
import os

from conftest import randomize
import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet import cpu
from magenta_wavenet.synthesis import generation
from magenta_wavenet.synthesis import host_loop
from magenta_wavenet.synthesis import numba_loop
from magenta_wavenet.synthesis.incremental import fused_weights


def test_runtime_and_format_by_model_size():
  small, full = mw.get_config('h64_bo16_pitch'), mw.get_config('h512_bo16')
  assert host_loop.fits_in_cache(small) and not host_loop.fits_in_cache(full)
  assert generation.default_runtime(small, 'float32') == 'numba'
  assert generation.default_runtime(small, 'int8') == 'numba'
  assert generation.default_runtime(small, 'float16') == 'numba'
  assert generation.default_runtime(full, 'float32') == 'numba'
  assert generation.default_runtime(full, 'float16') == 'numba'
  assert generation.default_runtime(full, 'int8') == 'litert'
  assert generation.fastest_format(small, 1) == 'int8'
  assert generation.fastest_format(small, 7) == 'int8'
  assert generation.fastest_format(small, 8) == 'float32'
  assert generation.fastest_format(full, 4) == 'int8'
  assert generation.fastest_format(full, 12) == 'float16'
  assert generation.fastest_format(full, 16) == 'float16'
  # The loops' threads: the cores this process may use, at most all.
  assert 1 <= cpu.cores() <= os.cpu_count()


def test_gate_matches_sigmoid_times_tanh():
  """tanh within 3.4e-7, sigmoid (from tanh) within 1.7e-7: their product
  within 6e-7 (measured 4.2e-7) over the whole range."""
  preactivation = np.concatenate([
      np.linspace(-20, 20, 4001, dtype=np.float32)[np.newaxis],
      np.linspace(20, -20, 4001, dtype=np.float32)[np.newaxis]], axis=1)
  gated = np.zeros([1, 4001], np.float32)
  numba_loop._gate(preactivation, gated, 0, 4001)  # pylint: disable=protected-access
  x = preactivation.astype(np.float64)
  exact = 1 / (1 + np.exp(-x[:, :4001])) * np.tanh(x[:, 4001:])
  assert np.abs(gated - exact).max() <= 6e-7


@pytest.mark.parametrize('rows', [8, 13, 3])
def test_product_of_both_formats_and_every_row_count(rows):
  rng = np.random.default_rng(rows)
  matrix = rng.normal(size=(rows, 37)).astype(np.float32)
  inputs = rng.normal(size=(3, 37)).astype(np.float32)
  out = np.ones([3, rows], np.float32)
  numba_loop._add_product(  # pylint: disable=protected-access
      matrix, np.ones(rows, np.float32), inputs, out, 0, rows, False)
  np.testing.assert_allclose(out, 1 + inputs @ matrix.T, rtol=1e-5,
                             atol=1e-5)
  # Rows outside [first, last) are left alone.
  part = np.ones([3, rows], np.float32)
  numba_loop._add_product(  # pylint: disable=protected-access
      matrix, np.ones(rows, np.float32), inputs, part, 1, rows - 1, False)
  np.testing.assert_array_equal(part[:, [0, -1]], 1)
  np.testing.assert_allclose(part[:, 1:-1], out[:, 1:-1], rtol=1e-5,
                             atol=1e-5)
  # Inputs in pairs and an odd one alone: each sum in the same order, so a
  # row's numbers do not depend on the rows beside it.
  for b in range(3):
    alone = np.ones([1, rows], np.float32)
    numba_loop._add_product(  # pylint: disable=protected-access
        matrix, np.ones(rows, np.float32), inputs[b:b + 1], alone, 0, rows,
        False)
    np.testing.assert_array_equal(alone[0], out[b])
  quantized, scale = numba_loop._quantized(matrix)  # pylint: disable=protected-access
  assert quantized.dtype == np.int8 and np.abs(quantized).max() == 127
  out = np.zeros([3, rows], np.float32)
  numba_loop._add_product(quantized, scale, inputs, out, 0, rows, False)  # pylint: disable=protected-access
  # Each weight is off by at most half a step, scale / 2.
  bound = np.abs(inputs).sum(1, keepdims=True) * scale / 2
  assert np.all(np.abs(out - inputs @ matrix.T) <= bound + 1e-4)


@pytest.mark.parametrize('batch', [1, 4, 13])
@pytest.mark.parametrize('weights', numba_loop.FORMATS)
def test_prefetching_the_weights_leaves_every_sum_as_it_was(weights, batch):
  # Batch 1, an odd input alone; 4, pairs; 13, six pairs and an odd input.
  # 40 rows, 5 blocks of 8: the last is not prefetched past; 21 columns
  # leave each row's last cache line partly used.
  rng = np.random.default_rng(9)
  matrix = rng.normal(size=(40, 21)).astype(np.float32)
  inputs = rng.normal(size=(batch, 21)).astype(np.float32)
  if weights == 'int8':
    matrix, scale = numba_loop._quantized(matrix)  # pylint: disable=protected-access
  else:
    scale = np.ones(40, np.float32)
    if weights == 'float16':
      matrix = matrix.astype(np.float16).view(np.uint16)
  outs = []
  for streamed in (False, True):
    out = np.ones([batch, 40], np.float32)
    numba_loop._add_product(matrix, scale, inputs, out, 0, 40, streamed)  # pylint: disable=protected-access
    outs.append(out)
  np.testing.assert_array_equal(outs[0], outs[1])
  as_float32 = (matrix.view(np.float16).astype(np.float32)
                if weights == 'float16' else matrix.astype(np.float32))
  np.testing.assert_allclose(outs[1], 1 + inputs @ (as_float32.T * scale),
                             rtol=1e-4, atol=1e-4)


def test_step_matrices_keep_the_output_layers_float32():
  model = mw.NSynthAutoencoder('tiny')
  matrices = numba_loop.step_matrices(fused_weights(model.decoder), 'int8')
  assert {name: matrix.dtype for name, (matrix, _, _) in matrices.items()} == {
      'start': np.int8, 'skip_start': np.int8, 'taps': np.int8,
      'res_skip': np.int8, 'out1': np.float32, 'logits': np.float32}
  layers = len(model.config.decoder_dilations)
  width = model.config.decoder_width
  assert matrices['taps'][0].shape == (layers, 2 * width, 3 * width)
  halves = numba_loop.step_matrices(fused_weights(model.decoder), 'float16')
  assert {matrix.dtype for matrix, _, _ in halves.values()} == {
      np.dtype(np.uint16)}
  np.testing.assert_array_equal(
      halves['logits'][0].view(np.float16),
      np.asarray(fused_weights(model.decoder)['logits'][0], np.float16))
  with pytest.raises(ValueError,
                     match='runs weights in float32, float16, int8'):
    numba_loop.step_matrices(fused_weights(model.decoder), 'bfloat16')


def gumbel_noise(seed, start, count, rows):
  """`host_loop.gumbel` of positions [start, start + count) and rows
  [0, rows): float32 [count, rows, 256] (each float32 value comes back to
  Python as a float, exactly)."""
  return np.array([[[host_loop.gumbel(seed, position, row, category)
                     for category in range(256)] for row in range(rows)]
                   for position in range(start, start + count)], np.float32)


def test_noise_is_gumbel_and_keyed_by_position():
  noise = gumbel_noise(3, 4000, 200, 2)
  assert noise.shape == (200, 2, 256) and noise.dtype == np.float32
  np.testing.assert_array_equal(noise[150], gumbel_noise(3, 4150, 1, 2)[0])
  assert not np.array_equal(noise, gumbel_noise(4, 4000, 200, 2))
  # Standard Gumbel: mean Euler's gamma, variance pi^2 / 6 (102,400
  # values: standard errors 0.004 and 0.012), within the stated range.
  assert abs(noise.mean() - np.euler_gamma) < 0.02
  assert abs(noise.var() - np.pi**2 / 6) < 0.06
  assert -2.82 <= noise.min() and noise.max() < host_loop.GUMBEL_CEILING
  # Rows and categories are not copies of each other.
  assert abs(np.corrcoef(noise[:, 0, 0], noise[:, 1, 0])[0, 1]) < 0.2
  assert abs(np.corrcoef(noise[:, 0, 0], noise[:, 0, 1])[0, 1]) < 0.2


@pytest.mark.parametrize('temperature', [1.0, 0.3, 0.0])
def test_gumbel_max_is_the_argmax_over_all_the_noise(temperature):
  """The draw that skips the categories that cannot win picks what the
  argmax of logits + temperature * noise over all categories picks."""
  rng = np.random.default_rng(0)
  noise = gumbel_noise(5, 0, 300, 1)[:, 0]
  for position in range(300):
    # Confident and flat distributions, and ties.
    logits = (rng.normal(size=256) * rng.choice([0.1, 3, 30])).astype(
        np.float32)
    if position % 7 == 0:
      logits = np.round(logits)
    expected = np.argmax(logits + np.float32(temperature) * noise[position])
    assert host_loop.gumbel_max(logits, np.float32(temperature), 5, position,
                                0) == expected


def test_gumbel_max_samples_the_softmax():
  """Over 20,000 positions the draws of fixed logits follow
  softmax(logits / temperature): each frequency within 4 standard errors."""
  logits = np.full(256, -9.0, np.float32)
  logits[[3, 7, 200]] = [0.0, 1.0, 2.0]
  temperature = np.float32(0.8)
  draws = [host_loop.gumbel_max(logits, temperature, 11, position, 0)
           for position in range(20000)]
  counts = np.bincount(draws, minlength=256)
  probabilities = np.exp(logits / temperature)
  probabilities /= probabilities.sum()
  error = np.sqrt(probabilities * (1 - probabilities) / 20000)
  assert np.all(np.abs(counts / 20000 - probabilities) <= 4 * error + 1e-4)


def test_numba_float32_matches_xla_on_the_shipped_model():
  """Real audio through the default model: the Numba loop's logits stay
  within 1e-3 of the XLA loop's (measured 7.6e-5), softmax within 1e-5."""
  model = mw.load_model(mw.model.pretrained.DEFAULT_MODEL)
  audio = mw.load_audio(mw.bundled_sound('nsynth_e5'))[np.newaxis,
                                                       2048:2048 + 2048]
  code = model.encode(audio)
  logits = {runtime: generation.incremental_logits(
      model, audio, code, runtime=runtime).numpy()
            for runtime in ('xla', 'numba')}
  assert np.abs(logits['xla'] - logits['numba']).max() <= 1e-3
  gap = tf.nn.softmax(logits['xla']) - tf.nn.softmax(logits['numba'])
  assert np.abs(gap).max() <= 1e-5


def test_rows_split_over_threads_give_the_same_numbers():
  """A batch of 5 through a decoder 24 channels wide (3 blocks of 8 rows)
  with 20 skip channels (a block and a remainder), run by 1, 2 and 3
  threads, each computing its share of every product's rows: the same
  audio, state and logits, to the bit."""
  config = dataclasses.replace(mw.get_config('tiny'), decoder_width=24,
                               skip_width=20)
  model = randomize(mw.NSynthAutoencoder(config))
  code = np.random.default_rng(0).normal(size=(5, 4, 4)).astype(np.float32)
  inputs = np.random.default_rng(1).uniform(-1, 1, (100, 5)).astype(
      np.float32)
  results = []
  for threads in (1, 2, 3):
    decoder = numba_loop.NumbaDecoder(model.decoder, threads=threads)
    projected = decoder.project_code(code)
    state = decoder.init_state(5)
    state, x_prev, audio = decoder.sample_loop(
        state, np.zeros(5, np.float32), projected, 150, seed=2,
        temperature=1.0)
    state, x_prev, logits = decoder.forced_loop(state, x_prev, projected,
                                                inputs)
    results.append((audio, logits, x_prev, *state))
  assert [result[3] for result in results] == [250] * 3
  assert np.ptp(results[0][0]) > 0
  for one, other in zip(results[0], results[1]):
    np.testing.assert_array_equal(one, other)
  for one, other in zip(results[0], results[2]):
    np.testing.assert_array_equal(one, other)


def test_runs_from_several_threads_at_once_finish_and_agree(tiny_model):
  """Callers on threads of their own share one decoder (as `synthesize`
  shares a model's): every run finishes, with the audio it has alone."""
  decoder = numba_loop.NumbaDecoder(tiny_model.decoder, threads=2)
  code = np.random.default_rng(0).normal(size=(2, 4, 4)).astype(np.float32)
  projected = decoder.project_code(code)

  def generate(seed):
    return decoder.sample_loop(decoder.init_state(2),
                               np.zeros(2, np.float32), projected, 256,
                               seed=seed, temperature=1.0)[2]

  alone = [generate(seed) for seed in range(6)]
  with concurrent.futures.ThreadPoolExecutor(6) as callers:
    together = list(callers.map(generate, range(6), timeout=120))
  for one, other in zip(alone, together):
    np.testing.assert_array_equal(one, other)


def test_steps_past_the_code_are_refused(tiny_model):
  """The native loop checks no index, so the decoder checks that every step
  has its code frame (3 frames of 64 samples here)."""
  decoder = numba_loop.NumbaDecoder(tiny_model.decoder)
  projected = decoder.project_code(np.zeros((1, 3, 4), np.float32))
  state = decoder.init_state(1)
  decoder.sample_loop(state, np.zeros(1, np.float32), projected, 192, seed=0,
                      temperature=1.0)
  with pytest.raises(ValueError, match='step 192 needs code frame 3; the '
                     'code has 3'):
    decoder.sample_loop(state, np.zeros(1, np.float32), projected, 1,
                        seed=0, temperature=1.0)
