"""tools/compare_models.py: the model card's table from one command."""

import json

from conftest import tone
import numpy as np
import pytest

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
      '--sample_length=1024', '--temperatures=1,0.5', '--seeds=0,3',
      f'--save_path={tmp_path / "scores.json"}'])
  assert status == 0
  audio, names, pitches = compare_models.real_notes(
      tmp_path / 'notes.npy', 0, 1024)
  saved = json.loads((tmp_path / 'scores.json').read_text())
  rows = capsys.readouterr().out.splitlines()[2:]
  assert len(saved) == len(rows) == 2
  for temperature, result, row in zip((1.0, 0.5), saved, rows):
    seeds = [evaluation.summary(evaluation.evaluate(
        model, audio, names, pitches, temperature=temperature, seed=seed)[0])
             for seed in (0, 3)]
    assert [run['seed'] for run in result['runs']] == [0, 3]
    assert [run['mean'] for run in result['runs']] == seeds
    assert seeds[0]['stft_distance'] != seeds[1]['stft_distance']
    assert seeds[0]['nll_bits'] == seeds[1]['nll_bits']  # no sampling
    means = {key: (seeds[0][key] + seeds[1][key]) / 2 for key in seeds[0]}
    assert result['set'] == 'real NSynth notes'
    assert result['temperature'] == temperature
    assert result['mean'] == pytest.approx(means)
    low, high = sorted(100 * seed['pitch_accuracy'] for seed in seeds)
    assert row == (f'| {folder} | {temperature:g} | real NSynth notes | 2 | '
                   f'{means["nll_bits"]:.2f} | '
                   f'{means["stft_distance"]:.2f} | '
                   f'{100 * means["pitch_accuracy"]:.1f}% '
                   f'({low:.1f}-{high:.1f}) |')
