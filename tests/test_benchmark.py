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
      model, [1, 2], ['float32', 'float16', 'int8'], steps=256, repeats=2,
      baseline_steps=4, runtimes=['xla', 'numba', 'litert'])
  # The machine, its vector width as numpy's own CPU detection finds it.
  features = np._core._multiarray_umath.__cpu_features__  # pylint: disable=protected-access
  first_line = report.splitlines()[0]
  assert f'{os.cpu_count()} cores' in first_line
  if features.get('AVX512F') or features.get('AVX2'):
    assert ('AVX-512' if features['AVX512F'] else 'AVX2') in first_line
  # The product instructions, as /proc/cpuinfo's flags list them.
  listed = set()
  if os.path.exists('/proc/cpuinfo'):
    with open('/proc/cpuinfo') as handle:
      listed = set(next(line for line in handle if line.startswith('flags'))
                   .partition(':')[2].split())
  present = [flag for flag in speed.PRODUCT_FLAGS if flag in listed]
  assert re.search(r'Product instructions: ([\w, ]+?)(?: \(not [\w, ]+\))?;',
                   report).group(1).split(', ') == (present or ['none'])
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
    assert abs(per_second - batch * 1000 / step_ms) <= (
        0.01 * abs(per_second) + 1)
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
  # Encoding's floor at the header's float32 rate.
  assert rate == pytest.approx(float(re.search(
      r'float32 at ([\d.]+) GFLOP/s', report).group(1)), rel=1e-3)
  assert ratio == pytest.approx(encode_ms / floor_ms, rel=0.01, abs=0.01)
  network = re.search(
      r'The encoder network alone on the same note: ([\d.]+) ms by '
      r'Winograd.s F\(4, 3\) \(`encode`\), ([\d.]+) ms by TensorFlow.s '
      r'convolutions .*: ([\d.]+)x\.', report)
  winograd_ms, convolution_ms, speedup = map(float, network.groups())
  assert winograd_ms > 0 and convolution_ms > 0
  assert speedup == pytest.approx(winograd_ms / convolution_ms, rel=0.01,
                                  abs=0.01)
  filtered = re.search(
      r'The harmonic filter \(20 dB, `--harmonic_filter_db`\) on a 4 s note '
      r'after it is generated: ([\d.]+) ms \(([\d.]+)x real time\); '
      r'librosa.s pYIN, which its compiled pYIN replaces, takes ([\d.]+) ms '
      r'alone\.', report)
  filter_ms, real_time, pyin_ms = map(float, filtered.groups())
  assert filter_ms > 0 and pyin_ms > 0
  assert real_time == pytest.approx(4000 / filter_ms, rel=0.01, abs=0.05)
  kept = re.search(
      r'Keeping each sample.s expected value \(`--expected_value`\) in the '
      r'(\w+) loop with float32 weights: ([\d.]+) ms a step at batch 1 '
      r'\(([\d.]+)x the step above\)', report)
  assert kept, report
  plain = float(re.search(
      rf'\| {kept.group(1)} loop, float32 weights \| 1 \| ([\d.]+) \|',
      report).group(1))
  assert float(kept.group(3)) == pytest.approx(
      float(kept.group(2)) / plain, rel=0.01, abs=0.01)
  means = re.search(
      r'Expected values of the same 4 s note drawn before '
      r'\(`mw.expected_audio`, one teacher-forced pass\): ([\d.]+) ms '
      r'\(([\d.]+)x real time\); compute floor ([\d.]+) ms .*: '
      r'([\d.]+)x the floor\.', report)
  means_ms, real_time, floor_ms, ratio = map(float, means.groups())
  assert means_ms > 0 and floor_ms > 0
  assert real_time == pytest.approx(4000 / means_ms, rel=0.01, abs=0.05)
  assert ratio == pytest.approx(means_ms / floor_ms, rel=0.01, abs=0.01)
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
  # bandwidth and its arithmetic over the printed product rate of its format
  # (int8 for LiteRT's int8 step but out1 and logits, float32 for the rest),
  # both counted here from the model's layers, not from the report: 4 bytes
  # per weight for float32 and float16 in LiteRT (unpacked when it loads
  # them); float16 in the Numba loop 2 bytes per kernel entry and 4 per bias;
  # for int8 (both runtimes) 1 byte per kernel entry and one float32 scale
  # per output, but out1 and logits kept float32, plus the float32 biases.
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
  float32_rate, int8_rate = (
      float(re.search(rf'{name} at ([\d.]+) GFLOP/s', report).group(1))
      for name in ('float32', 'int8'))
  if not listed.intersection(speed.INT8_FLAGS):
    assert int8_rate == float32_rate
  step_mflop = float(re.search(r'([\d.]+) MFLOP per step and batch row',
                               report).group(1))
  assert step_mflop == pytest.approx(2 * kernels / 1e6, rel=1e-3)
  floors = {(name, int(row[0])): float(row[7])
            for name, row in zip(names, cells)}
  int8_bytes = kernels + 3 * output_kernels + 8 * biases - 4 * output_biases
  float32_ms = 2 * kernels / (float32_rate * 1e6)
  int8_ms = (2 * (kernels - output_kernels) / (int8_rate * 1e6)
             + 2 * output_kernels / (float32_rate * 1e6))
  for name, weight_bytes, row_ms in (
      ('XLA loop, float32 weights', 4 * (kernels + biases), float32_ms),
      ('Numba loop, float32 weights', 4 * (kernels + biases), float32_ms),
      ('LiteRT loop, float32 weights', 4 * (kernels + biases), float32_ms),
      ('LiteRT loop, float16 weights', 4 * (kernels + biases), float32_ms),
      ('Numba loop, float16 weights', 2 * kernels + 4 * biases, float32_ms),
      ('Numba loop, int8 weights', int8_bytes, float32_ms),
      ('LiteRT loop, int8 weights', int8_bytes, int8_ms)):
    for batch in (1, 2):
      assert floors[(name, batch)] == pytest.approx(
          max(weight_bytes / (bandwidth * 1e6), row_ms * batch),
          rel=0.01), name


def test_large_batches_time_fewer_steps():
  assert [speed.timed_steps(batch, 512) for batch in (1, 16, 64, 256, 512)
          ] == [512, 512, 128, 32, 16]
  # At least MIN_STEPS, at most the steps asked for.
  assert speed.timed_steps(4096, 512) == speed.MIN_STEPS == 16
  assert speed.timed_steps(64, 8) == 8


def test_int8_products_count_where_the_cpu_has_int8_dot_products(
    monkeypatch):
  monkeypatch.setattr(speed, 'peak_rate', lambda: 1e11)
  monkeypatch.setattr(speed, 'int8_rate', lambda: 4e11)
  with_vnni = {'avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'sse2'}
  rates = speed.product_rates(with_vnni)
  assert rates == {'float32': 1e11, 'int8': 4e11}
  assert speed.rates_sentence(rates, with_vnni).startswith(
      'Products: float32 at 100 GFLOP/s (numpy, 1,024-square matrices), '
      'int8 at 400 GFLOP/s (LiteRT\'s dynamic-range int8 fully-connected '
      'layer, 1,024 rows through 1,024-square int8 weights, XNNPACK on ')
  assert speed.rates_sentence(rates, with_vnni).endswith(
      'Product instructions: avx2, avx512f, avx512_vnni, avx512_bf16 (not '
      'avx_vnni, amx_tile, amx_int8, amx_bf16); no runtime here multiplies '
      'in bfloat16.')
  # AVX2 alone (Zen 3): int8 products at the float32 rate, not measured.
  monkeypatch.setattr(speed, 'int8_rate', lambda: pytest.fail('measured'))
  rates = speed.product_rates({'avx2'})
  assert rates == {'float32': 1e11, 'int8': 1e11}
  assert 'int8 at 100 GFLOP/s (float32\'s: no int8 dot-product ' in (
      speed.rates_sentence(rates, {'avx2'}))


def test_large_batch_rows_and_each_formats_floor(monkeypatch):
  # Product rates so low that every floor is the arithmetic's, int8's four
  # times float32's (as if the CPU had VNNI); and the steps each case timed.
  monkeypatch.setattr(speed, 'peak_rate', lambda: 1e7)
  monkeypatch.setattr(speed, 'int8_rate', lambda: 4e7)
  monkeypatch.setattr(speed, 'cpu_flags', lambda: {'avx2', 'avx512_vnni'})
  timed = []
  time_loop = speed.time_loop

  def recording_time_loop(model, batch, weights, runtime, steps, repeats,
                          expected_value=False):
    timed.append((weights, runtime, batch, steps) + (
        ('expected values',) if expected_value else ()))
    return time_loop(model, batch, weights, runtime, steps, repeats,
                     expected_value)

  monkeypatch.setattr(speed, 'time_loop', recording_time_loop)
  model = randomize(mw.NSynthAutoencoder('tiny'))
  report, timings = speed.run_benchmark(
      model, [1, 64], ['float32', 'int8'], steps=256, repeats=1,
      baseline_steps=2, runtimes=['numba', 'litert'])
  cases = [('float32', 'numba'), ('float32', 'litert'), ('int8', 'numba'),
           ('int8', 'litert')]
  names = {f'{speed.LOOP_NAMES[runtime]}, {weights} weights': (weights,
                                                                 runtime)
           for weights, runtime in cases}
  # Then float32 in its default runtime keeping expected values, at the
  # first and last batch.
  assert timed == [case + (batch, steps) for case in cases
                   for batch, steps in ((1, 256), (64, 64))] + [
                       ('float32', 'numba', batch, steps, 'expected values')
                       for batch, steps in ((1, 256), (64, 64))]
  assert ('A timed run is 256 steps up to batch 16, then as many '
          'sample-steps (batch x steps): 64 at batch 64;') in report
  assert 'float32 at 0.01 GFLOP/s' in report
  assert 'int8 at 0.04 GFLOP/s' in report
  rows = {(row[1].strip(), int(row[2])): row[3:-1]
          for row in (line.split('|') for line in report.splitlines()
                      if line.startswith('| ') and ' weights |' in line)}
  assert sorted(rows) == sorted((name, batch) for name in names
                                for batch in (1, 64))
  layers = step_layers(model)
  output = [layer for layer in layers if layer.name in ('out1', 'logits')]
  flops = 2 * sum(int(np.prod(layer.kernel.shape)) for layer in layers)
  output_flops = 2 * sum(int(np.prod(layer.kernel.shape))
                         for layer in output)
  for (name, batch), cells in rows.items():
    step_ms, floor_ms = float(cells[0]), float(cells[6])
    expected = batch * (
        (flops - output_flops) / 4e4 + output_flops / 1e4
        if name == 'LiteRT loop, int8 weights' else flops / 1e4)
    assert floor_ms == pytest.approx(expected, rel=0.01), name
    assert float(cells[7]) == pytest.approx(step_ms / floor_ms, rel=0.01,
                                            abs=0.006)
    assert timings[names[name]][batch] == pytest.approx(step_ms, rel=0.006)
  # So LiteRT's int8 step, the only one with int8 products, has a lower
  # floor than the Numba loop's int8 step of the same weights.
  assert float(rows[('LiteRT loop, int8 weights', 64)][6]) < float(
      rows[('Numba loop, int8 weights', 64)][6])
