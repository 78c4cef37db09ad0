"""demo/nsynth_demo.ipynb runs headless, top to bottom, on short audio."""

import os
import re

import nbclient
import nbformat
import numpy as np

import magenta_wavenet as mw
from magenta_wavenet.model import pretrained

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'demo', 'nsynth_demo.ipynb')


def test_committed_notebook_keeps_its_outputs():
  """A reader on a code host sees the plot and hears the players."""
  assert os.path.getsize(NOTEBOOK) < 800_000  # six 2.5 s players and a plot
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  outputs = [output for cell in notebook.cells if cell.cell_type == 'code'
             for output in cell.outputs]
  assert not [output for output in outputs
              if output.output_type == 'error'
              or 'Warning' in output.get('text', '')]
  text = ''.join(output.get('text', '') for output in outputs)
  assert 'h64_bo16_pitch hop 512 pitched True' in text
  assert '40000 samples -> code (78, 17)' in text
  hnr = dict(re.findall(r'^(\w+)[^\n]* HNR +([\d.]+) dB$', text, re.M))
  assert float(hnr['filtered']) > float(hnr['resynthesis']) + 10
  assert float(hnr['expected']) > float(hnr['resynthesis'])
  images = [output for output in outputs
            if 'image/png' in output.get('data', {})]
  players = [output for output in outputs
             if '<audio' in output.get('data', {}).get('text/html', '')]
  assert len(images) == 1 and len(players) == 6


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
      'nsynth_e5_fifth.wav', 'nsynth_e5_resynthesis.wav',
      'nsynth_e5_resynthesis_expected.wav',
      'nsynth_e5_resynthesis_filtered.wav']
  code = np.load(tmp_path / 'out' / 'nsynth_e5_code.npy')
  audio = mw.load_audio(mw.bundled_sound('nsynth_e5'))[:1024]
  np.testing.assert_allclose(code, model.encode(audio[None]).numpy()[0],
                             rtol=1e-5, atol=1e-5)
  outputs = [output for cell in notebook.cells
             for output in cell.get('outputs', [])]
  text = ''.join(output.get('text', '') for output in outputs)
  assert '1100 samples -> code (2, 17)' in text
  kinds = {key for output in outputs for key in output.get('data', {})}
  assert {'image/png', 'text/html'} <= kinds  # the plot and the players
