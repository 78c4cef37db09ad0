"""The benchmark runs end to end and reports consistent figures."""

import re

from magenta_wavenet import benchmark
from conftest import randomize
import magenta_wavenet as mw


def test_table_has_every_case_with_consistent_numbers():
  model = randomize(mw.NSynthAutoencoder('tiny'))
  report = benchmark.run_benchmark(model, [1, 2], ['float32', 'bfloat16'],
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
