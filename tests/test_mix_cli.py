"""The mix command line: each mode writes the library's result; errors."""

import os
import re

from conftest import randomize
from conftest import tone
import librosa
import numpy as np
import pytest
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import mixing
from magenta_wavenet import pitch_retry
from magenta_wavenet.cli import mix
from magenta_wavenet.sound.pitch import note_pitch
from magenta_wavenet.synthesis import generation


@pytest.fixture
def codes(tmp_path):
  rng = np.random.default_rng(0)
  paths = []
  for index, frames in enumerate((6, 5, 6, 7)):
    path = tmp_path / f'c{index}.v1.npy'
    np.save(path, rng.normal(size=(frames, 4)).astype(np.float32))
    paths.append(str(path))
  return paths


def run_mix(tmp_path, *flags):
  return mix.main(['mix', f'--save_path={tmp_path / "out"}'] + list(flags))


def saved(tmp_path, name):
  return np.load(tmp_path / 'out' / f'{name}.npy')


def test_each_mode_saves_the_library_result(tmp_path, codes):
  a, b, c, d = (np.load(path) for path in codes)
  assert run_mix(tmp_path, f'--mix={codes[0]}:0.25,{codes[1]}:0.75') == 0
  np.testing.assert_allclose(saved(tmp_path, 'mix'),
                             0.25 * a[:5] + 0.75 * b, atol=1e-6)
  assert run_mix(tmp_path, f'--interpolate={codes[0]},{codes[2]}',
                 '--steps=3') == 0
  np.testing.assert_allclose(saved(tmp_path, 'interp_1'), (a + c) / 2,
                             atol=1e-6)
  assert run_mix(tmp_path, f'--grid={",".join(codes)}', '--steps=2') == 0
  np.testing.assert_allclose(saved(tmp_path, 'grid_1_0'), c[:5], atol=1e-6)
  assert run_mix(tmp_path, f'--timestretch={codes[3]}', '--factor=1.5') == 0
  np.testing.assert_allclose(saved(tmp_path, 'c3.v1_stretch_1.5'),
                             mixing.timestretch(d, 1.5), atol=1e-6)
  assert run_mix(tmp_path, f'--crossfade={codes[0]},{codes[1]}',
                 '--overlap=2') == 0
  np.testing.assert_allclose(saved(tmp_path, 'crossfade'),
                             mixing.crossfade(a, b, 2), atol=1e-6)
  assert sorted(os.listdir(tmp_path / 'out')) == sorted(
      ['mix.npy', 'interp_0.npy', 'interp_1.npy', 'interp_2.npy',
       'grid_0_0.npy', 'grid_0_1.npy', 'grid_1_0.npy', 'grid_1_1.npy',
       'c3.v1_stretch_1.5.npy', 'crossfade.npy'])


@pytest.mark.parametrize('flags, message', [
    (['--mix=A:0.5,B'], r'c1\.v1\.npy" is not path:weight'),
    (['--mix=A:half,B:1'], r'c0\.v1\.npy:half" is not path:weight'),
    (['--mix=A:1,B:1', '--crossfade=A,B'], 'give exactly one of .*got --mix, '
     '--crossfade'),
    ([], 'give exactly one of --mix'),
    (['--grid=A,B'], '--grid needs 4 comma-separated sounds, got 2'),
    (['--crossfade=A,B', '--overlap=9'], 'overlap must be between 0 and 5'),
    (['--interpolate=A,{tmp}/missing.npy'], '1 of 2 inputs could not be '),
])
def test_bad_requests_are_one_line(tmp_path, codes, capsys, flags, message):
  flags = [f.replace('A', codes[0]).replace('B', codes[1])
           .format(tmp=tmp_path) for f in flags]
  assert run_mix(tmp_path, *flags) == 1
  err = capsys.readouterr().err
  assert 'Traceback' not in err
  assert re.search(message, err.splitlines()[-1]), err


def test_audio_inputs_are_encoded_and_synthesized(tmp_path, capsys):
  model = randomize(mw.NSynthAutoencoder('tiny'), seed=2)
  mw.save_model(model, tmp_path / 'model')
  audio = [(0.4 * np.sin(np.arange(320) * f)).astype(np.float32)
           for f in (0.05, 0.11)]
  for name, samples in zip(('x.wav', 'y.wav'), audio):
    soundfile.write(tmp_path / name, samples, 16000)
  assert run_mix(tmp_path, f'--checkpoint_path={tmp_path / "model"}',
                 f'--mix={tmp_path / "x.wav"}:0.5,{tmp_path / "y.wav"}:0.5',
                 '--synthesize', '--seed=4') == 0
  loaded = [mw.load_audio(tmp_path / name) for name in ('x.wav', 'y.wav')]
  expected = 0.5 * (model.encode(np.stack(loaded)).numpy().sum(axis=0))
  np.testing.assert_allclose(saved(tmp_path, 'mix'), expected, atol=1e-5)
  wav, _ = soundfile.read(tmp_path / 'out' / 'mix.wav', dtype='float32')
  reference = generation.synthesize(model, expected[None], seed=4)[0]
  np.testing.assert_allclose(wav, reference, atol=1 / 32768)
  assert f'wrote {tmp_path / "out" / "mix.wav"}' in capsys.readouterr().out
  assert run_mix(tmp_path, f'--checkpoint_path={tmp_path / "model"}',
                 f'--mix={tmp_path / "x.wav"}:0.5,{tmp_path / "y.wav"}:0.5',
                 '--synthesize', '--seed=4', '--expected_value') == 0
  wav, _ = soundfile.read(tmp_path / 'out' / 'mix.wav', dtype='float32')
  np.testing.assert_allclose(wav, generation.synthesize(
      model, expected[None], seed=4, expected_value=True)[0], atol=1 / 32768)
  assert not np.allclose(wav, reference, atol=1e-3)


def test_pitch_sets_the_pitch_of_every_code_read_and_written(
    tmp_path, codes, tiny_pitch_checkpoint, tiny_checkpoint, capsys):
  checkpoint, model = tiny_pitch_checkpoint
  a, b = np.load(codes[0]), np.load(codes[1])
  # A code with its own pitch, a 4-channel one and an audio file mix at 50;
  # the weights do not scale the pitch. The audio is moved from its own
  # pitch to 50 before it is encoded.
  np.save(tmp_path / 'own.npy', np.pad(b, [[0, 0], [0, 1]],
                                        constant_values=70.0))
  audio = (0.4 * np.sin(np.arange(384) * 0.05)).astype(np.float32)
  soundfile.write(tmp_path / 'x.wav', audio, 16000)
  assert run_mix(tmp_path, f'--checkpoint_path={checkpoint}', '--pitch=50',
                 f'--mix={codes[0]}:1,{tmp_path / "own.npy"}:1,'
                 f'{tmp_path / "x.wav"}:0.5') == 0
  moved = librosa.effects.pitch_shift(
      mw.load_audio(tmp_path / 'x.wav'), sr=16000,
      n_steps=50 - note_pitch(audio))
  learned = model.encode(moved[None]).numpy()[0]
  np.testing.assert_allclose(
      saved(tmp_path, 'mix'), np.pad(a[:5] + b + 0.5 * learned[:5, :4],
                                     [[0, 0], [0, 1]], constant_values=50.0),
      atol=1e-5)
  # Without --pitch a 4-channel code mixes, but is not synthesized.
  assert run_mix(tmp_path, f'--checkpoint_path={checkpoint}', '--synthesize',
                 f'--interpolate={codes[0]},{codes[1]}') == 1
  assert capsys.readouterr().err.splitlines()[-3:] == [
      f'error: {path}: a 4-channel code, which models without pitch take '
      '(--checkpoint_path=tiny); the pitch-conditioned tiny_pitch takes 5 '
      'channels: give --pitch=N to play it at MIDI N.' for path in codes[:2]
  ] + ['error: 2 of 2 inputs could not be read.']
  assert not os.path.exists(tmp_path / 'out' / 'interp_0.npy')
  assert run_mix(tmp_path, f'--checkpoint_path={tiny_checkpoint[0]}',
                 '--pitch=50', f'--interpolate={codes[0]},{codes[1]}') == 1
  assert capsys.readouterr().err.splitlines()[-1] == (
      'error: the tiny model is not pitch-conditioned; it takes no pitch.')


def test_a_result_off_its_pitch_is_retried_from_its_sounds_moved(
    tmp_path, tiny_pitch_checkpoint, monkeypatch, capsys):
  checkpoint, _ = tiny_pitch_checkpoint
  for name, frequency in (('x.wav', 220.0), ('y.wav', 330.0)):
    soundfile.write(tmp_path / name, tone(8000, frequency=frequency), 16000)
  told = []

  def fake(model, encodings, seed=None, **kwargs):
    # Plays the pitch its code is told, but 57 at 3 f0.
    told.append((np.array(encodings), seed))
    return np.stack([tone(8000, frequency=440.0 * 2**((midi - 69) / 12)
                          * (3 if midi == 57 else 1))
                     for midi in np.array(encodings)[:, 0, -1]])
  monkeypatch.setattr(generation, 'synthesize', fake)
  mixed = f'--mix={tmp_path / "x.wav"}:0.5,{tmp_path / "y.wav"}:0.5'
  assert run_mix(tmp_path, f'--checkpoint_path={checkpoint}', mixed,
                 '--pitch=57', '--synthesize', '--seed=3',
                 '--retry_off_pitch') == 0
  (first, seed), (again, seed_again) = told
  assert seed == seed_again == 3
  assert first[0, 0, -1] == 57 and again[0, 0, -1] == 58
  wav, _ = soundfile.read(tmp_path / 'out' / 'mix.wav', dtype='float32')
  assert pitch_retry.plays_pitch(wav, 57, 16000)
  assert 'mix: played off its pitch; generated again from its sounds moved ' \
         '+1 semitones' in capsys.readouterr().err
  # The retry's code is the mix of the sounds read at 58, as --pitch=58
  # makes it.
  assert run_mix(tmp_path, f'--checkpoint_path={checkpoint}', mixed,
                 '--pitch=58') == 0
  np.testing.assert_allclose(again[0], saved(tmp_path, 'mix'), atol=1e-5)
  # Without the flag the result stays at 3 f0.
  assert run_mix(tmp_path, f'--checkpoint_path={checkpoint}', mixed,
                 '--pitch=57', '--synthesize') == 0
  wav, _ = soundfile.read(tmp_path / 'out' / 'mix.wav', dtype='float32')
  assert not pitch_retry.plays_pitch(wav, 57, 16000)


@pytest.mark.parametrize('flags, message', [
    (['--mix=X:1,Y:1', '--synthesize'], '--retry_off_pitch retries what '
     '--synthesize generates at --pitch: give both.'),
    (['--mix=X:1,Y:1', '--pitch=57'], '--retry_off_pitch retries what '
     '--synthesize generates at --pitch: give both.'),
    (['--mix=X:1,C:1', '--pitch=57', '--synthesize'], 'retrying off-pitch '
     'results needs the sounds as audio: it moves them, and a code cannot be '
     'moved.'),
])
def test_a_retry_without_pitch_or_audio_is_refused(
    tmp_path, codes, tiny_pitch_checkpoint, capsys, flags, message):
  checkpoint, _ = tiny_pitch_checkpoint
  for name in ('X.wav', 'Y.wav'):
    soundfile.write(tmp_path / name, tone(2000), 16000)
  flags = [f.replace('X', str(tmp_path / 'X.wav')).replace(
      'Y', str(tmp_path / 'Y.wav')).replace('C', codes[0]) for f in flags]
  assert run_mix(tmp_path, f'--checkpoint_path={checkpoint}',
                 '--retry_off_pitch', *flags) == 1
  assert capsys.readouterr().err.splitlines()[-1] == f'error: {message}'
  assert not os.path.exists(tmp_path / 'out' / 'mix.wav')
