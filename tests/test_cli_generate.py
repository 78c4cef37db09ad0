"""generate: the reference's flags, every input saved, partial WAVs, errors."""

import functools
import os
import subprocess
import sys

from conftest import randomize
from conftest import tone
import numpy as np
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import resynthesis
from magenta_wavenet.cli import generate
from magenta_wavenet.codes import encode_files
from magenta_wavenet.sound import dsp
from magenta_wavenet.synthesis import generation

RATE = 16000


def test_codes_every_batch_partial_last_batch_same_as_library(
    tiny_checkpoint, tmp_path, capsys):
  checkpoint, model = tiny_checkpoint
  source = tmp_path / 'codes'
  source.mkdir()
  rng = np.random.default_rng(0)
  codes = {name: rng.normal(size=(frames, 4)).astype(np.float32)
           for name, frames in (('n.1.a', 3), ('n.1.b', 4), ('c', 5))}
  for name, code in codes.items():
    np.save(source / f'{name}.npy', code)
  np.save(source / 'pickled.npy', np.array([None]), allow_pickle=True)
  np.save(source / 'wide.npy', np.zeros((3, 16), np.float32))
  status = generate.main([
      'generate', f'--checkpoint_path={checkpoint}', f'--source_path={source}',
      f'--save_path={tmp_path / "out"}', '--batch_size=2', '--seed=3',
      '--sample_length=256', '--temperature=0.8'])
  err = capsys.readouterr().err
  assert status == 1
  assert sorted(os.listdir(tmp_path / 'out')) == [
      'gen_c.wav', 'gen_n.1.a.wav', 'gen_n.1.b.wav']
  assert 'pickled.npy: not a plain numeric .npy file' in err
  assert 'wide.npy: expected shape [batch, frames, 4], got [1, 3, 16]' in err
  assert '2 of 5 inputs failed; 3 generated.' in err
  assert 'Traceback' not in err
  # Batch 1 is [c, n.1.a]: c is cut to 256 samples (4 frames), n.1.a has 3.
  expected = generation.synthesize(
      model, np.stack([codes['c'][:4], np.pad(codes['n.1.a'], [[0, 1], [0, 0]])
                       ]), temperature=0.8, seed=3, lengths=[256, 192])
  for name, row, length in (('c', 0, 256), ('n.1.a', 1, 192)):
    saved, rate = soundfile.read(tmp_path / 'out' / f'gen_{name}.wav',
                                 dtype='float32')
    assert rate == RATE and saved.shape == (length,)
    np.testing.assert_allclose(saved, expected[row, :length], atol=1 / 32768)


def test_audio_input_is_encoded_and_partial_wavs_are_written(
    tiny_checkpoint, tmp_path, monkeypatch, capsys):
  checkpoint, model = tiny_checkpoint
  soundfile.write(tmp_path / 'note.wav', tone(700), RATE)
  np.save(tmp_path / 'ignored.npy', np.zeros((3, 4), np.float32))
  monkeypatch.setattr(generation, 'Synthesizer', functools.partial(
      generation.Synthesizer, chunk_size=100))
  writes = []
  original_save = resynthesis.save_wav
  monkeypatch.setattr(resynthesis, 'save_wav', lambda path, audio: (
      writes.append((os.path.basename(path), len(audio))),
      original_save(path, audio)))
  assert generate.main([
      'generate', f'--checkpoint_path={checkpoint}',
      f'--source_path={tmp_path}', f'--save_path={tmp_path / "out"}',
      '--sample_length=640', '--save_every=250', '--seed=1']) == 0
  # The partial file is rewritten at the first chunk end past 250 and 500,
  # then the finished file replaces it.
  assert writes == [('gen_note.partial.wav', 300),
                    ('gen_note.partial.wav', 500), ('gen_note.wav', 640)]
  assert os.listdir(tmp_path / 'out') == ['gen_note.wav']
  assert 'Generated 640 of 640 samples (100%)' in capsys.readouterr().err
  monkeypatch.undo()
  # The chunk size does not change the samples: the noise is keyed by time.
  code = model.encode(tone(640)[None]).numpy()
  expected = generation.synthesize(model, code, seed=1)
  saved, _ = soundfile.read(tmp_path / 'out' / 'gen_note.wav',
                            dtype='float32')
  np.testing.assert_allclose(saved, expected[0], atol=1 / 32768)


def test_expected_value_writes_the_means_of_the_draws(tiny_checkpoint,
                                                      tmp_path):
  checkpoint, model = tiny_checkpoint
  code = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
  np.save(tmp_path / 'code.npy', code)
  common = ['generate', f'--checkpoint_path={checkpoint}', '--npy_only',
            f'--source_path={tmp_path / "code.npy"}', '--seed=6']
  written = {}
  for name, extra in (('drawn', []), ('means', ['--expected_value'])):
    assert generate.main(common + [f'--save_path={tmp_path / name}'] +
                         extra) == 0
    written[name], _ = soundfile.read(tmp_path / name / 'gen_code.wav',
                                      dtype='float32')
  drawn = generation.synthesize(model, code[None], seed=6)
  np.testing.assert_allclose(written['drawn'], drawn[0], atol=1 / 32768)
  np.testing.assert_allclose(
      written['means'], mw.expected_audio(model.decoder, code[None], drawn)[0],
      atol=1 / 32768)
  assert not np.allclose(written['means'], written['drawn'], atol=1e-3)


def test_npy_only_and_bad_audio_in_a_real_process(tiny_checkpoint, tmp_path):
  checkpoint, _ = tiny_checkpoint
  (tmp_path / 'text.wav').write_text('not audio')
  np.save(tmp_path / 'code.npy', np.zeros((2, 4), np.float32))
  common = [sys.executable, '-m', 'magenta_wavenet.generate',
            f'--checkpoint_path={checkpoint}', f'--source_path={tmp_path}',
            '--log=WARN']
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  result = subprocess.run(
      common + [f'--save_path={tmp_path / "a"}', '--npy_only'],
      capture_output=True, text=True, timeout=120, check=False, env=env)
  assert result.returncode == 0, result.stderr
  assert os.listdir(tmp_path / 'a') == ['gen_code.wav']
  result = subprocess.run(common + [f'--save_path={tmp_path / "b"}'],
                          capture_output=True, text=True, timeout=120,
                          check=False, env=env)
  assert result.returncode == 1
  last_lines = result.stderr.splitlines()[-2:]
  assert last_lines[0].startswith(
      f'error: {tmp_path / "text.wav"}: not a readable audio file (')
  assert last_lines[1] == '1 of 1 inputs failed; 0 generated.'
  assert 'Traceback' not in result.stderr


def test_resume_continues_an_interrupted_run(tiny_checkpoint, tmp_path):
  checkpoint, _ = tiny_checkpoint
  np.save(tmp_path / 'code.npy', np.random.default_rng(1).normal(
      size=(6, 4)).astype(np.float32))
  common = ['generate', f'--checkpoint_path={checkpoint}', '--npy_only',
            f'--source_path={tmp_path / "code.npy"}', '--seed=4']
  assert generate.main(common + [f'--save_path={tmp_path / "whole"}']) == 0
  whole, _ = soundfile.read(tmp_path / 'whole' / 'gen_code.wav',
                            dtype='float32')
  # What an interrupted run leaves: the first 150 samples as a partial file.
  (tmp_path / 'cut').mkdir()
  mw.save_wav(tmp_path / 'cut' / 'gen_code.partial.wav', whole[:150])
  assert generate.main(common + [f'--save_path={tmp_path / "cut"}',
                                 '--resume']) == 0
  resumed, _ = soundfile.read(tmp_path / 'cut' / 'gen_code.wav',
                              dtype='float32')
  np.testing.assert_array_equal(resumed, whole)
  assert os.listdir(tmp_path / 'cut') == ['gen_code.wav']


def test_pitch_plays_codes_on_a_pitch_conditioned_model(
    tiny_pitch_checkpoint, tiny_checkpoint, tmp_path, capsys):
  checkpoint, model = tiny_pitch_checkpoint
  rng = np.random.default_rng(5)
  plain = rng.normal(size=(3, 4)).astype(np.float32)  # a model's w/o pitch
  pitched = np.concatenate([rng.normal(size=(3, 4)),
                            np.full((3, 1), 70.0)], axis=-1)
  np.save(tmp_path / 'plain.npy', plain)
  np.save(tmp_path / 'pitched.npy', pitched)
  common = ['generate', f'--checkpoint_path={checkpoint}', '--npy_only',
            '--seed=2', '--batch_size=2']
  # Without --pitch the 4-channel code says what to do.
  assert generate.main(common + [f'--source_path={tmp_path / "plain.npy"}',
                                 f'--save_path={tmp_path / "no"}']) == 1
  assert capsys.readouterr().err.splitlines()[-2] == (
      f'error: {tmp_path / "plain.npy"}: a 4-channel code, which models '
      'without pitch take (--checkpoint_path=tiny); the pitch-conditioned '
      'tiny_pitch takes 5 channels: give --pitch=N to play it at MIDI N.')
  # With it, the pitch is appended to one and replaces the other's.
  assert generate.main(common + [f'--source_path={tmp_path}',
                                 f'--save_path={tmp_path / "out"}',
                                 '--pitch=48.5']) == 0
  at_48 = np.stack([np.pad(code[:, :4], [[0, 0], [0, 1]],
                           constant_values=48.5)
                    for code in (pitched, plain)])
  expected = generation.synthesize(model, at_48, seed=2)
  for row, name in enumerate(('pitched', 'plain')):
    saved, _ = soundfile.read(tmp_path / 'out' / f'gen_{name}.wav',
                              dtype='float32')
    np.testing.assert_allclose(saved, expected[row], atol=1 / 32768)
  # A model without pitch refuses it before any work.
  assert generate.main([
      'generate', f'--checkpoint_path={tiny_checkpoint[0]}',
      f'--source_path={tmp_path / "plain.npy"}', '--pitch=48',
      f'--save_path={tmp_path / "plain_model"}']) == 1
  assert capsys.readouterr().err.splitlines()[-1] == (
      'error: the tiny model is not pitch-conditioned; it takes no pitch.')
  assert not os.listdir(tmp_path / 'plain_model')
  assert generate.main(common + [f'--source_path={tmp_path}', '--pitch=128',
                                 f'--save_path={tmp_path / "high"}']) == 2
  assert 'not a number in the range [0, 127]' in capsys.readouterr().err


def test_quiet_audio_is_raised_to_the_models_level_and_lowered_back(
    tmp_path):
  # Centred and raised to the peak of the notes the model was trained on.
  model = randomize(mw.NSynthAutoencoder(
      mw.get_config('tiny').replace(input_peak=dsp.NOTE_PEAK)), seed=6)
  mw.save_model(model, tmp_path / 'model')
  # Two whole periods in each eighth: no offset of its own.
  loud = tone(640, frequency=400.0) * np.float32(1.5)  # peak 0.75: raised
  quiet = loud / 8  # raised by exactly 8 times as much
  for name, audio in (('loud', loud), ('quiet', quiet)):
    soundfile.write(tmp_path / f'{name}.wav', audio, RATE, subtype='FLOAT')
  # Taken as it is, the quiet note has another code.
  assert not np.allclose(model.encode(quiet[None]), model.encode(loud[None]),
                         atol=1e-3)
  encoded = encode_files(model, [str(tmp_path / 'loud.wav'),
                                 str(tmp_path / 'quiet.wav')], 640)
  np.testing.assert_array_equal(encoded[1][2], encoded[0][2])
  np.testing.assert_array_equal(encoded[1][1], quiet)  # the audio as read
  # An offset (DC) is taken out before the model hears the sound.
  offset = loud + np.float32(0.05)
  assert not np.allclose(model.encode(offset[None]), model.encode(loud[None]),
                         atol=1e-2)
  # (adding and taking out 0.05 moves a few samples by a mu-law class)
  np.testing.assert_allclose(mw.encode_at_level(model, offset[None]),
                             mw.encode_at_level(model, loud[None]),
                             atol=2e-3)
  assert generate.main([
      'generate', f'--checkpoint_path={tmp_path / "model"}',
      f'--source_path={tmp_path}/*.wav', f'--save_path={tmp_path / "out"}',
      '--sample_length=640', '--seed=1', '--batch_size=1']) == 0
  saved = {name: soundfile.read(tmp_path / 'out' / f'gen_{name}.wav',
                                dtype='float32')[0]
           for name in ('loud', 'quiet')}
  # The same samples, the quiet one's as loud as its input.
  assert np.abs(saved['loud']).max() > 0.1
  np.testing.assert_allclose(saved['quiet'] * 8, saved['loud'],
                             atol=8 / 32768)
