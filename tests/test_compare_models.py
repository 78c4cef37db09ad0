"""tools/compare_models.py: the model card's table from one command, and
tools/real_sets.py: the sets of real notes it reads."""

import json

from conftest import tone
import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet.training import evaluation
from tools import compare_models
from tools import real_sets


def test_real_notes_are_cut_scaled_and_pitched(tmp_path):
  notes = np.stack([0.3 * tone(6000, frequency=440.0) / 0.5,
                    0.9 * tone(6000, frequency=220.0) / 0.5])
  np.save(tmp_path / 'notes.npy', notes)
  audio, names, pitches, set_name = compare_models.real_notes(
      tmp_path / 'notes.npy', offset=1000, length=4096)
  assert audio.shape == (2, 4096) and names == ['real_00', 'real_01']
  assert set_name == 'real NSynth notes'
  np.testing.assert_allclose(np.abs(audio).max(axis=1), 0.8, rtol=1e-6)
  np.testing.assert_allclose(audio[0], notes[0, 1000:5096] * 0.8 / 0.3,
                             rtol=1e-5, atol=1e-6)
  assert pitches == [69, 57]


def test_table_rows_are_the_evaluation_means(tiny_checkpoint, tmp_path,
                                             capsys):
  folder, model = tiny_checkpoint
  # Two instruments at one pitch, so that telling them apart is scored.
  notes = np.stack([tone(3000, frequency=330.0),
                    tone(3000, frequency=330.0) + tone(3000, frequency=990.0)])
  np.save(tmp_path / 'notes.npy', notes)
  status = compare_models.main([
      'compare_models', f'--models={folder}',
      f'--real_notes={tmp_path / "notes.npy"}', '--real_offset=0',
      '--sample_length=1024', '--temperatures=1,0.5', '--seeds=0,3',
      f'--save_path={tmp_path / "scores.json"}'])
  assert status == 0
  audio, names, pitches, _ = compare_models.real_notes(
      tmp_path / 'notes.npy', 0, 1024)
  assert pitches == [64, 64]
  saved = json.loads((tmp_path / 'scores.json').read_text())
  rows = capsys.readouterr().out.splitlines()[2:]
  assert len(saved) == len(rows) == 2
  for temperature, result, row in zip((1.0, 0.5), saved, rows):
    seeds = [evaluation.summary(evaluation.evaluate(
        model, audio, names, pitches, temperature=temperature, seed=seed)[0])
             for seed in (0, 3)]
    assert [run['seed'] for run in result['runs']] == [0, 3]
    for run, seed in zip(result['runs'], seeds):  # 'follows' is NaN here
      assert run['mean'] == pytest.approx(seed, rel=0, abs=0, nan_ok=True)
    assert seeds[0]['stft_distance'] != seeds[1]['stft_distance']
    assert seeds[0]['nll_bits'] == seeds[1]['nll_bits']  # no sampling
    means = {key: (seeds[0][key] + seeds[1][key]) / 2 for key in seeds[0]}
    assert result['set'] == 'real NSynth notes'
    assert result['temperature'] == temperature
    assert result['mean'] == pytest.approx(means, nan_ok=True)
    low, high = sorted(100 * seed['pitch_accuracy'] for seed in seeds)
    assert means['identification_chance'] == 0.5
    assert row == (f'| {folder} | {temperature:g} | real NSynth notes | 2 | '
                   f'{means["nll_bits"]:.2f} | '
                   f'{means["stft_distance"]:.2f} | '
                   f'{100 * means["pitch_accuracy"]:.1f}% '
                   f'({low:.1f}-{high:.1f}) | '
                   f'{100 * means["identification"]:.1f}% (50.0%) | '
                   f'{means["hnr_gap_db"]:.1f} | '
                   f'{100 * means["locked"]:.1f}% | - | - |')


def test_file_names_give_the_pitch_of_a_real_note():
  assert real_sets.name_pitch('Gamba8/055-G.wav') == 55
  assert real_sets.name_pitch('Bourdon8/042-F#.wav') == 42
  assert real_sets.name_pitch('organ_acoustic_001-067-100.flac') == 67
  # A number its note name contradicts, or no pitch at all.
  assert real_sets.name_pitch('Gamba8/055-A.wav') is None
  assert real_sets.name_pitch('instruments/church_organ01.ogg') is None


def test_real_sets_writes_a_set_that_compare_models_reads(tmp_path, capsys):
  source = tmp_path / 'organ'
  notes = {'Flute/055-G.wav': 196.0,  # MIDI 55, as named
           'Flute/067-G.wav': 392.0,
           'Piccolo/055-G.wav': 784.0,  # named by its key, sounds MIDI 79
           'Reed/055-G.wav': 196.0,
           'unnamed.wav': 440.0}  # pYIN's MIDI 69
  for name, frequency in notes.items():
    (source / name).parent.mkdir(parents=True, exist_ok=True)
    mw.save_wav(str(source / name), 0.3 * tone(20000, frequency=frequency))
  assert real_sets.main([
      'real_sets', f'--input_dir={source}', '--note_samples=8000',
      '--name=test organ', f'--output={tmp_path / "sets" / "organ"}']) == 0
  meta = json.loads((tmp_path / 'sets' / 'organ.json').read_text())
  assert [(note['name'], note['pitch'], note['pitch_from'])
          for note in meta['notes']] == [
              ('Flute_055-G', 55, 'name'), ('Flute_067-G', 67, 'name'),
              ('Reed_055-G', 55, 'name'), ('unnamed', 69, 'pyin')]
  audio = np.load(tmp_path / 'sets' / 'organ.npy')
  assert audio.shape == (4, 8000) and audio.dtype == np.float32
  np.testing.assert_allclose(np.abs(audio).max(axis=1),
                             compare_models.REAL_PEAK, rtol=1e-4)
  assert 'unnamed: MIDI 69 (pyin)' in capsys.readouterr().out
  # --pitches keeps the notes of those pitches only.
  kept, notes_kept = real_sets.make_set(str(source), {55}, 8000)
  assert [note['name'] for note in notes_kept] == ['Flute_055-G',
                                                   'Reed_055-G']
  np.testing.assert_array_equal(kept, audio[[0, 2]])
  # compare_models reads the set's names, pitches and name.
  cut, names, pitches, set_name = compare_models.real_notes(
      tmp_path / 'sets' / 'organ.npy', 1000, 4096,
      tmp_path / 'sets' / 'organ.json')
  assert cut.shape == (4, 4096) and set_name == 'test organ'
  assert names == ['Flute_055-G', 'Flute_067-G', 'Reed_055-G', 'unnamed']
  assert pitches == [55, 67, 55, 69]
