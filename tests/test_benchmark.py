"""The benchmark runs end to end and reports consistent figures."""

import os
import re

from conftest import randomize
import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet import speed


def step_layers(model):
  """The decoder's convolutions a step reads (not the conditioning's)."""
  return [layer for name, layer in model.conv_layers().items()
          if not name.startswith(('ae_', 'cond_map'))]


def test_default_cases_are_each_formats_runtime_and_the_xla_reference():
  small, full = mw.get_config('tiny'), mw.get_config('h512_bo16')
  formats = ['float32', 'float16', 'int8']
  assert speed.cases(small, formats) == [
      ('float32', 'xla'), ('float32', 'numba'), ('float16', 'numba'),
      ('int8', 'numba')]
  assert speed.cases(full, formats) == [
      ('float32', 'xla'), ('float32', 'numba'), ('float16', 'numba'),
      ('int8', 'litert')]
  assert speed.cases(small, ['int8'], ['litert', 'numba']) == [
      ('int8', 'numba'), ('int8', 'litert')]


def test_table_has_every_case_with_consistent_numbers():
  model = randomize(mw.NSynthAutoencoder('tiny'))
  report, timings = speed.run_benchmark(
      model, [1, 2], ['float32', 'float16', 'int8'], steps=64, repeats=1,
      baseline_steps=4, runtimes=['xla', 'numba', 'litert'])
  # The machine, its vector width as numpy's own CPU detection finds it.
  features = np._core._multiarray_umath.__cpu_features__  # pylint: disable=protected-access
  first_line = report.splitlines()[0]
  assert f'{os.cpu_count()} cores' in first_line
  if features.get('AVX512F') or features.get('AVX2'):
    assert ('AVX-512' if features['AVX512F'] else 'AVX2') in first_line
  rows = [line for line in report.splitlines() if line.startswith('| ')
          and not line.startswith(('| generation', '| ---'))]
  names = [row.split('|')[1].strip() for row in rows]
  assert names == [
      'naive baseline (Python loop, per-step graph call)',
      'XLA loop, float32 weights', 'XLA loop, float32 weights',
      'Numba loop, float32 weights', 'Numba loop, float32 weights',
      'LiteRT loop, float32 weights', 'LiteRT loop, float32 weights',
      'Numba loop, float16 weights', 'Numba loop, float16 weights',
      'LiteRT loop, float16 weights', 'LiteRT loop, float16 weights',
      'Numba loop, int8 weights', 'Numba loop, int8 weights',
      'LiteRT loop, int8 weights', 'LiteRT loop, int8 weights']
  cells = [[cell.strip() for cell in row.split('|')[2:-1]] for row in rows]
  for row in cells:
    batch, step_ms, per_second = int(row[0]), float(row[1]), float(
        row[2].replace(',', ''))
    assert step_ms > 0
    assert abs(per_second - batch * 1000 / step_ms) <= 0.01 * per_second + 1
    assert float(row[8]) == pytest.approx(step_ms / float(row[7]), rel=0.01)
  encoding = re.search(
      r'Encoding 64,000 samples \(4 s\) at batch 1: ([\d.]+) ms .*; compute '
      r'floor ([\d.]+) ms \(([\d.]+) GFLOP with the blocks by Winograd.s '
      r'F\(4, 3\), ([\d.]+) by the taps, at ([\d.]+) GFLOP/s.*\): '
      r'([\d.]+)x the floor', report)
  encode_ms, floor_ms, gflop, direct_gflop, rate, ratio = map(
      float, encoding.groups())
  # The arithmetic counted from the encoder's own kernels: each weight is
  # one multiply-add at every one of the 64,000 samples; by Winograd's
  # F(4, 3), each dilated convolution's three taps cost one and a half.
  encoder_weights = sum(int(np.prod(layer.kernel.shape)) for name, layer in
                        model.conv_layers().items() if name.startswith('ae_'))
  dilated_weights = sum(int(np.prod(layer.kernel.shape)) for name, layer in
                        model.conv_layers().items()
                        if name.startswith('ae_dilatedconv'))
  assert direct_gflop == pytest.approx(2 * 64000 * encoder_weights / 1e9,
                                       rel=1e-3)
  assert gflop == pytest.approx(
      2 * 64000 * (encoder_weights - dilated_weights / 2) / 1e9, rel=1e-3)
  assert floor_ms == pytest.approx(gflop / rate * 1000, rel=2e-3)
  # One product rate for every floor: the header's.
  assert rate == pytest.approx(float(re.search(
      r'products at ([\d.]+) GFLOP/s', report).group(1)), rel=1e-3)
  assert ratio == pytest.approx(encode_ms / floor_ms, rel=0.01, abs=0.01)
  network = re.search(
      r'The encoder network alone on the same note: ([\d.]+) ms by '
      r'Winograd.s F\(4, 3\) \(`encode`\), ([\d.]+) ms by TensorFlow.s '
      r'convolutions .*: ([\d.]+)x\.', report)
  winograd_ms, convolution_ms, speedup = map(float, network.groups())
  assert winograd_ms > 0 and convolution_ms > 0
  assert speedup == pytest.approx(winograd_ms / convolution_ms, rel=0.01,
                                  abs=0.01)
  # Ratios against the XLA loop's float32 at the same batch and against
  # batch 1 of the same case, from the printed steps: each step printed to
  # 3 significant digits, so a ratio of them is off by up to 1% (and the
  # printed ratio by 0.005).
  steps = {(name, int(row[0])): float(row[1])
           for name, row in zip(names, cells)}
  # The step times it returns (for generate's batch size) are the printed
  # ones.
  assert len(timings) == len(set(names[1:])) == 7
  for (weights, runtime), times in timings.items():
    name = f'{speed.LOOP_NAMES[runtime]}, {weights} weights'
    for batch in (1, 2):
      assert times[batch] == pytest.approx(steps[(name, batch)], rel=0.006)
  for name, row in zip(names[1:], cells[1:]):
    batch = int(row[0])
    assert float(row[5]) == pytest.approx(
        steps[(name, batch)] / steps[('XLA loop, float32 weights', batch)],
        rel=0.012, abs=0.01)
    assert float(row[6]) == pytest.approx(
        steps[(name, batch)] / steps[(name, 1)], rel=0.012, abs=0.01)
  # The floor is the longer of the bytes a step reads over the printed
  # bandwidth and its arithmetic over the printed product rate, both counted
  # here from the model's layers, not from the report: 4 bytes per weight
  # for float32 and float16 in LiteRT (unpacked when it loads them); float16
  # in the Numba loop 2 bytes per kernel entry and 4 per bias; for int8 (both
  # runtimes) 1 byte per kernel entry and one float32 scale per output, but
  # out1 and logits kept float32, plus the float32 biases.
  layers = step_layers(model)
  kernels = sum(int(np.prod(layer.kernel.shape)) for layer in layers)
  biases = sum(int(np.prod(layer.bias.shape)) for layer in layers)
  output = [layer for layer in layers if layer.name in ('out1', 'logits')]
  output_kernels = sum(int(np.prod(layer.kernel.shape)) for layer in output)
  output_biases = sum(int(np.prod(layer.bias.shape)) for layer in output)
  bandwidth = float(re.search(r'bandwidth ([\d.]+) GB/s', report).group(1))
  printed_bytes = int(re.search(r'\(([\d,]+) bytes of float32\)', report)
                      .group(1).replace(',', ''))
  assert printed_bytes == 4 * (kernels + biases)
  product_rate = float(re.search(r'products at ([\d.]+) GFLOP/s',
                                 report).group(1))
  step_mflop = float(re.search(r'([\d.]+) MFLOP per step and batch row',
                               report).group(1))
  assert step_mflop == pytest.approx(2 * kernels / 1e6, rel=1e-3)
  floors = {(name, int(row[0])): float(row[7])
            for name, row in zip(names, cells)}
  int8_bytes = kernels + 3 * output_kernels + 8 * biases - 4 * output_biases
  for name, weight_bytes in (
      ('XLA loop, float32 weights', 4 * (kernels + biases)),
      ('Numba loop, float32 weights', 4 * (kernels + biases)),
      ('LiteRT loop, float32 weights', 4 * (kernels + biases)),
      ('LiteRT loop, float16 weights', 4 * (kernels + biases)),
      ('Numba loop, float16 weights', 2 * kernels + 4 * biases),
      ('Numba loop, int8 weights', int8_bytes),
      ('LiteRT loop, int8 weights', int8_bytes)):
    for batch in (1, 2):
      assert floors[(name, batch)] == pytest.approx(
          max(weight_bytes / (bandwidth * 1e6),
              2 * kernels * batch / (product_rate * 1e6)), rel=0.01), name
