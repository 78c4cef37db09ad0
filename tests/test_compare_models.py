"""tools/compare_models.py: the model card's table from one command."""

import json

from conftest import tone
import numpy as np

from magenta_wavenet.training import evaluation
from tools import compare_models


def test_real_notes_are_cut_scaled_and_pitched(tmp_path):
  notes = np.stack([0.3 * tone(6000, frequency=440.0) / 0.5,
                    0.9 * tone(6000, frequency=220.0) / 0.5])
  np.save(tmp_path / 'notes.npy', notes)
  audio, names, pitches = compare_models.real_notes(
      tmp_path / 'notes.npy', offset=1000, length=4096)
  assert audio.shape == (2, 4096) and names == ['real_00', 'real_01']
  np.testing.assert_allclose(np.abs(audio).max(axis=1), 0.8, rtol=1e-6)
  np.testing.assert_allclose(audio[0], notes[0, 1000:5096] * 0.8 / 0.3,
                             rtol=1e-5, atol=1e-6)
  assert pitches == [69, 57]


def test_table_rows_are_the_evaluation_means(tiny_checkpoint, tmp_path,
                                             capsys):
  folder, model = tiny_checkpoint
  notes = np.stack([tone(3000, frequency=330.0), tone(3000, frequency=550.0)])
  np.save(tmp_path / 'notes.npy', notes)
  status = compare_models.main([
      'compare_models', f'--models={folder}',
      f'--real_notes={tmp_path / "notes.npy"}', '--real_offset=0',
      '--sample_length=1024', f'--save_path={tmp_path / "scores.json"}'])
  assert status == 0
  audio, names, pitches = compare_models.real_notes(
      tmp_path / 'notes.npy', 0, 1024)
  scores, _ = evaluation.evaluate(model, audio, names, pitches, seed=0)
  means = evaluation.summary(scores)
  saved, = json.loads((tmp_path / 'scores.json').read_text())
  assert saved['set'] == 'real NSynth notes'
  assert saved['mean'] == means
  row = capsys.readouterr().out.splitlines()[2]
  assert row == (f'| {folder} | real NSynth notes | 2 | '
                 f'{means["nll_bits"]:.2f} | {means["stft_distance"]:.2f} | '
                 f'{100 * means["pitch_accuracy"]:.1f}% |')
