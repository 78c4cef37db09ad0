"""The benchmark runs end to end and reports consistent figures."""

import re

from conftest import randomize
import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet import speed


def test_table_has_every_case_with_consistent_numbers():
  model = randomize(mw.NSynthAutoencoder('tiny'))
  report = speed.run_benchmark(model, [1, 2], ['float32', 'bfloat16'],
                               steps=64, repeats=1, baseline_steps=4)
  rows = [line for line in report.splitlines() if line.startswith('| ')
          and not line.startswith(('| generation', '| ---'))]
  assert [row.split('|')[1].strip() for row in rows] == [
      'naive baseline (Python loop, per-step graph call)',
      'XLA loop, float32 weights', 'XLA loop, float32 weights',
      'XLA loop, bfloat16 weights', 'XLA loop, bfloat16 weights']
  for row in rows:
    cells = [cell.strip() for cell in row.split('|')[2:-1]]
    batch, step_ms, per_second = int(cells[0]), float(cells[1]), float(
        cells[2].replace(',', ''))
    assert step_ms > 0
    assert abs(per_second - batch * 1000 / step_ms) <= 0.01 * per_second + 1
  assert re.search(r'Encoding 64,000 samples \(4 s\) at batch 1: \d+ ms',
                   report)
  # The floor is the decoder's weight bytes over the printed bandwidth, each
  # weight read once per step: counted here from the model, not the report.
  kernels = sum(int(np.prod(layer.kernel.shape)) for name, layer
                in model.conv_layers().items()
                if not name.startswith(('ae_', 'cond_map')))
  biases = sum(int(np.prod(layer.bias.shape)) for name, layer
               in model.conv_layers().items()
               if not name.startswith(('ae_', 'cond_map')))
  bandwidth = float(re.search(r'bandwidth ([\d.]+) GB/s', report).group(1))
  printed_bytes = int(re.search(r'\(([\d,]+) bytes of float32\)', report)
                      .group(1).replace(',', ''))
  assert printed_bytes == 4 * (kernels + biases)
  floors = {row.split('|')[1].strip(): float(row.split('|')[7])
            for row in rows}
  for name, weight_bytes in (
      ('XLA loop, float32 weights', 4 * (kernels + biases)),
      ('XLA loop, bfloat16 weights', 2 * kernels + 4 * biases)):
    assert floors[name] == pytest.approx(weight_bytes / (bandwidth * 1e6),
                                         rel=0.01), name
  for row in rows:
    cells = [cell.strip() for cell in row.split('|')[2:-1]]
    assert float(cells[6]) == pytest.approx(
        float(cells[1]) / float(cells[5]), rel=0.01)
