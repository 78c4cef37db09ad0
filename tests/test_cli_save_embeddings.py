"""save_embeddings: every file of every batch, under its own name; bad input."""

import json
import os
import re
import subprocess
import sys

from conftest import tone
import numpy as np
import pytest
import soundfile

import magenta_wavenet as mw
from magenta_wavenet.cli import save_embeddings
from magenta_wavenet.model import pretrained

RATE = 16000


def write_bad_inputs(folder):
  """Files every command must refuse, one line each; returns their names."""
  (folder / 'text.wav').write_text('this is not audio\n')
  (folder / 'empty.wav').write_bytes(b'')
  soundfile.write(folder / 'short.wav', tone(30), RATE)  # < one tiny hop
  nan = tone(300)
  nan[10] = np.nan
  soundfile.write(folder / 'nan.wav', nan, RATE, subtype='FLOAT')
  return ['text.wav', 'empty.wav', 'short.wav', 'nan.wav']


def test_every_file_of_every_batch_is_saved_and_bad_ones_counted(
    tiny_checkpoint, tmp_path, capsys):
  checkpoint, model = tiny_checkpoint
  source = tmp_path / 'in'
  source.mkdir()
  soundfile.write(source / 'a.b.c.wav', tone(300), RATE)
  soundfile.write(source / 'plain.wav', tone(200, frequency=220), RATE)
  stereo = np.stack([tone(900, 48000), tone(900, 48000, 330)], axis=1)
  soundfile.write(source / 'stereo_48k.wav', stereo, 48000, subtype='PCM_24')
  bad = write_bad_inputs(source)
  status = save_embeddings.main([
      'save_embeddings', f'--checkpoint_path={checkpoint}',
      f'--source_path={source}', f'--save_path={tmp_path / "out"}',
      '--batch_size=3', '--sample_length=256'])
  err = capsys.readouterr().err
  assert status == 1
  assert sorted(os.listdir(tmp_path / 'out')) == [
      'a.b.c_embeddings.npy', 'plain_embeddings.npy',
      'stereo_48k_embeddings.npy']
  for name in bad:
    assert sum(line.startswith(f'error: {source / name}: ')
               for line in err.splitlines()) == 1, (name, err)
  assert '4 of 7 inputs failed; 3 encoded.' in err
  assert 'Traceback' not in err
  assert 'down-mixing 2 channels' in err and 'from 48000 Hz' in err
  # Each code equals the file encoded alone, cut to whole hops.
  for name, samples in (('a.b.c', 256), ('plain', 192)):
    audio = mw.load_audio(source / f'{name}.wav')[:samples]
    expected = model.encode(audio[None]).numpy()[0]
    saved = np.load(tmp_path / 'out' / f'{name}_embeddings.npy')
    assert saved.shape == (samples // 64, 4)
    np.testing.assert_allclose(saved, expected, rtol=1e-5, atol=1e-6)


def test_default_checkpoint_is_the_shipped_model(tmp_path):
  assert save_embeddings.main([
      'save_embeddings', f'--source_path={mw.bundled_sound("nsynth_b4")}',
      f'--save_path={tmp_path}', '--sample_length=2048']) == 0
  audio = mw.load_audio(mw.bundled_sound('nsynth_b4'))[:2048]
  # Quieter than the notes the model was trained on, it is raised to them.
  model = pretrained.default_model()
  assert model.config.input_peak > np.abs(audio).max()
  expected = mw.encode_at_level(model, audio[None])[0]
  saved = np.load(tmp_path / 'nsynth_b4_embeddings.npy')
  assert saved.shape == (4, 17)  # 16 code channels, then the MIDI pitch
  assert np.all(saved[:, -1] == 71)  # B4
  np.testing.assert_allclose(saved, expected, rtol=1e-5, atol=1e-5)


def test_same_stem_in_two_folders_gives_two_files(tiny_checkpoint, tmp_path):
  for folder in ('x', 'y'):
    (tmp_path / folder).mkdir()
    soundfile.write(tmp_path / folder / 'note.wav', tone(128), RATE)
  assert save_embeddings.main([
      'save_embeddings', f'--checkpoint_path={tiny_checkpoint[0]}',
      f'--source_path={tmp_path}/*/note.wav',
      f'--save_path={tmp_path / "out"}']) == 0
  assert sorted(os.listdir(tmp_path / 'out')) == [
      'x_note.wav_embeddings.npy', 'y_note.wav_embeddings.npy']


@pytest.mark.parametrize('flag, message', [
    ('--source_path={tmp}/missing.wav', 'missing.wav: no such file'),
    ('--source_path={tmp}', r'no \.wav or'),
    ('--checkpoint_path={tmp}/nothing_here', 'nothing_here: no such '
     'checkpoint'),
    ('--save_path={tmp}/file.txt/out', 'file.txt/out: Not a directory'),
])
def test_whole_command_errors_are_one_line(tiny_checkpoint, tmp_path, capsys,
                                           flag, message):
  (tmp_path / 'file.txt').write_text('x')
  soundfile.write(tmp_path / 'sub.wav', tone(128), RATE)
  argv = {'--source_path': f'--source_path={tmp_path}/sub.wav',
          '--checkpoint_path': f'--checkpoint_path={tiny_checkpoint[0]}',
          '--save_path': f'--save_path={tmp_path}/out'}
  if flag.startswith('--source_path={tmp}') and 'missing' not in flag:
    (tmp_path / 'sub.wav').unlink()
  argv[flag.split('=')[0]] = flag.format(tmp=tmp_path)
  assert save_embeddings.main(['save_embeddings'] + list(argv.values())) == 1
  err = capsys.readouterr().err
  errors = [line for line in err.splitlines() if line.startswith('error: ')]
  assert len(errors) == 1 and 'Traceback' not in err, err
  assert re.search(message, errors[0]), err


def test_mis_shaped_checkpoint_is_one_line(tmp_path, capsys):
  model = mw.NSynthAutoencoder('tiny')
  mw.save_model(model, tmp_path / 'model')
  config = mw.get_config('tiny').replace(bottleneck_width=5).to_dict()
  (tmp_path / 'model' / 'config.json').write_text(json.dumps(config))
  soundfile.write(tmp_path / 'a.wav', tone(128), RATE)
  assert save_embeddings.main([
      'save_embeddings', f'--checkpoint_path={tmp_path / "model"}',
      f'--source_path={tmp_path / "a.wav"}',
      f'--save_path={tmp_path / "out"}']) == 1
  err = capsys.readouterr().err
  errors = [line for line in err.splitlines() if line.startswith('error: ')]
  assert len(errors) == 1 and 'Traceback' not in err, err
  assert 'model.ckpt: does not fit' in errors[0]
  assert 'has shape [1, 1, 4, 16], expected [1, 1, 5, 16]' in errors[0]


def test_real_process_exit_status_and_no_traceback(tiny_checkpoint, tmp_path):
  (tmp_path / 'text.wav').write_text('not audio')
  soundfile.write(tmp_path / 'good.wav', tone(200), RATE)
  result = subprocess.run(
      [sys.executable, '-m', 'magenta_wavenet.save_embeddings',
       f'--checkpoint_path={tiny_checkpoint[0]}', f'--source_path={tmp_path}',
       f'--save_path={tmp_path / "out"}', '--log=WARN'],
      capture_output=True, text=True, timeout=120, check=False,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'))
  assert result.returncode == 1, result.stderr
  assert 'Traceback' not in result.stderr
  assert f'error: {tmp_path / "text.wav"}: not a readable audio file' in (
      result.stderr)
  assert os.listdir(tmp_path / 'out') == ['good_embeddings.npy']
