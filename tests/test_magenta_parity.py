"""The model against Magenta's own NSynth code (tools/magenta_parity.py).

Runs only where Magenta's NSynth modules can be imported: set MAGENTA_PATH to
a folder holding magenta/models/nsynth (a Magenta checkout), or install
magenta. A short note start keeps it to a few minutes on 2 CPU cores.
"""

import os
import pathlib
import sys

import pytest

import magenta_wavenet as mw

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
# pylint: disable=wrong-import-position
from tools import magenta_parity


@pytest.fixture(scope='module')
def magenta_path():
  path = os.environ.get(magenta_parity.MAGENTA_PATH_ENV, '')
  try:
    magenta_parity.import_nsynth(path)
  except mw.MagentaWavenetError as error:
    pytest.skip(f'{error} (set {magenta_parity.MAGENTA_PATH_ENV} to run '
                'the comparison with Magenta)')
  return path


def test_matches_magentas_graph_and_fast_generator(magenta_path):
  rows = magenta_parity.compare(magenta_path, num_samples=1024,
                                fastgen_steps=600)
  assert [row.bound > 0 for row in rows] == [False, True, True, True]
  failed = [row for row in rows if not row.passed]
  assert not failed, magenta_parity.table(rows)


def test_a_missing_checkout_is_named(tmp_path):
  with pytest.raises(mw.MagentaWavenetError, match='magenta/models/nsynth'):
    magenta_parity.import_nsynth(str(tmp_path))
