"""demo/nsynth_demo.ipynb runs headless, top to bottom, on short audio."""

import os

import nbclient
import nbformat
import numpy as np

import magenta_wavenet as mw
from magenta_wavenet import pretrained

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'demo', 'nsynth_demo.ipynb')


def test_committed_notebook_has_no_outputs():
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  for cell in notebook.cells:
    if cell.cell_type == 'code':
      assert not cell.outputs and cell.execution_count is None


def test_notebook_runs_on_the_shipped_model(tmp_path, monkeypatch):
  model = pretrained.default_model()
  monkeypatch.setenv('NSYNTH_DEMO_SAMPLES', '1100')
  monkeypatch.delenv('NSYNTH_DEMO_CHECKPOINT', raising=False)
  monkeypatch.setenv('NSYNTH_DEMO_OUTPUT', str(tmp_path / 'out'))
  monkeypatch.setenv('TF_CPP_MIN_LOG_LEVEL', '3')
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  nbclient.NotebookClient(
      notebook, timeout=240, kernel_name='python3',
      resources={'metadata': {'path': str(tmp_path)}}).execute()
  assert sorted(os.listdir(tmp_path / 'out')) == [
      'mix_e5_a1.wav', 'nsynth_e5.png', 'nsynth_e5_code.npy',
      'nsynth_e5_resynthesis.wav']
  code = np.load(tmp_path / 'out' / 'nsynth_e5_code.npy')
  audio = mw.load_audio(mw.bundled_sound('nsynth_e5'))[:1024]
  np.testing.assert_allclose(code, model.encode(audio[None]).numpy()[0],
                             rtol=1e-5, atol=1e-5)
  outputs = [output for cell in notebook.cells
             for output in cell.get('outputs', [])]
  text = ''.join(output.get('text', '') for output in outputs)
  assert '1100 samples -> code (2, 16)' in text
  kinds = {key for output in outputs for key in output.get('data', {})}
  assert {'image/png', 'text/html'} <= kinds  # the plot and the players
