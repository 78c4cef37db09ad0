"""Loading audio files: formats, rates, channels, and every kind of bad file.

Run with both decoders: the default environment (soundfile, TensorFlow 2.21)
and, in CI, a TensorFlow 2.17 + tensorflow-io environment.
"""

import os

import numpy as np
import pytest
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import files
from magenta_wavenet.sound import audio


def tone(seconds=0.5, rate=16000, channels=1):
  t = np.arange(int(seconds * rate)) / rate
  mono = 0.5 * np.sin(2 * np.pi * 440 * t)
  return mono if channels == 1 else np.stack([mono, -mono * 0.5], axis=1)


def test_backend_follows_the_environment(monkeypatch):
  monkeypatch.setenv(audio.BACKEND_ENV, 'soundfile')
  assert audio.audio_backend() == 'soundfile'
  monkeypatch.setenv(audio.BACKEND_ENV, 'ffmpeg')
  with pytest.raises(mw.AudioError, match='must be "soundfile" or'):
    audio.audio_backend()
  monkeypatch.delenv(audio.BACKEND_ENV)
  expected = 'tensorflow-io' if audio._tfio_works() else 'soundfile'  # pylint: disable=protected-access
  assert audio.audio_backend() == expected


def test_bundled_sound_is_a_real_note():
  samples = mw.load_audio(mw.bundled_sound('nsynth_e5'))
  assert samples.dtype == np.float32 and samples.shape == (40000,)
  assert 0.5 < np.abs(samples).max() <= 1.0
  with pytest.raises(mw.AudioError, match='choose one of nsynth_a1'):
    mw.bundled_sound('sitar')


@pytest.mark.parametrize('subtype', ['PCM_16', 'PCM_24', 'FLOAT'])
def test_wav_subtypes(tmp_path, subtype):
  path = str(tmp_path / f'{subtype}.wav')
  soundfile.write(path, tone(), 16000, subtype=subtype)
  np.testing.assert_allclose(mw.load_audio(path), tone(), atol=1e-4)


def test_flac(tmp_path):
  path = str(tmp_path / 'tone.flac')
  soundfile.write(path, tone(), 16000)
  np.testing.assert_allclose(mw.load_audio(path), tone(), atol=1e-4)


def test_stereo_is_down_mixed(tmp_path, caplog):
  path = str(tmp_path / 'stereo.wav')
  soundfile.write(path, tone(channels=2), 16000, subtype='FLOAT')
  with caplog.at_level('INFO'):
    samples = mw.load_audio(path)
  np.testing.assert_allclose(samples, tone() * 0.25, atol=1e-6)
  assert 'down-mixing 2 channels' in caplog.text


@pytest.mark.parametrize('rate', [44100, 48000, 8000])
def test_other_rates_are_resampled(tmp_path, caplog, rate):
  path = str(tmp_path / f'{rate}.wav')
  soundfile.write(path, tone(rate=rate), rate, subtype='FLOAT')
  with caplog.at_level('INFO'):
    samples = mw.load_audio(path)
  assert f'resampling from {rate} Hz to 16000 Hz' in caplog.text
  assert abs(len(samples) - 8000) <= 1
  # The 440 Hz tone survives: compare in the middle, away from edge effects.
  np.testing.assert_allclose(samples[2000:6000], tone()[2000:6000], atol=2e-2)


def test_missing(tmp_path):
  with pytest.raises(mw.AudioError, match='nope.wav: no such file'):
    mw.load_audio(tmp_path / 'nope.wav')


def test_directory(tmp_path):
  with pytest.raises(mw.AudioError, match='is a directory'):
    mw.load_audio(tmp_path)


def test_empty_file(tmp_path):
  path = tmp_path / 'empty.wav'
  path.write_bytes(b'')
  with pytest.raises(mw.AudioError, match='empty.wav: the file is empty'):
    mw.load_audio(path)


def test_text_file_named_wav(tmp_path):
  path = tmp_path / 'notes.wav'
  path.write_text('this is not audio\n' * 20)
  with pytest.raises(mw.AudioError, match='notes.wav: not a readable audio'):
    mw.load_audio(path)


def test_wav_with_no_samples(tmp_path):
  path = str(tmp_path / 'zero.wav')
  soundfile.write(path, np.zeros(0), 16000)
  with pytest.raises(mw.AudioError, match='zero.wav: (contains no audio|not '
                     'a readable)'):
    mw.load_audio(path)


def test_nan_samples(tmp_path):
  path = str(tmp_path / 'nan.wav')
  samples = tone()
  samples[100] = np.nan
  soundfile.write(path, samples, 16000, subtype='FLOAT')
  with pytest.raises(mw.AudioError, match='nan.wav: contains NaN'):
    mw.load_audio(path)


def test_shorter_than_one_hop(tmp_path):
  path = str(tmp_path / 'short.wav')
  soundfile.write(path, tone(seconds=0.01), 16000)
  with pytest.raises(mw.AudioError, match=r'short.wav: too short: 160 '
                     r'samples at 16000 Hz, at least 512'):
    mw.load_audio(path, min_samples=512)


def test_save_wav_is_atomic_and_clips(tmp_path):
  path = tmp_path / 'out.wav'
  mw.save_wav(path, np.array([0.0, 2.0, -2.0, 0.5]))
  samples, rate = soundfile.read(str(path))
  assert rate == 16000
  np.testing.assert_allclose(samples, [0, 1, -1, 0.5], atol=1e-4)
  assert [p.name for p in tmp_path.iterdir()] == ['out.wav']
  assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask()


def test_failed_write_leaves_no_partial_file(tmp_path):
  def explode(temporary):
    with open(temporary, 'w') as handle:
      handle.write('half')
    raise KeyboardInterrupt
  with pytest.raises(KeyboardInterrupt):
    files.atomic_write(tmp_path / 'x.wav', explode)
  assert list(tmp_path.iterdir()) == []


def current_umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


def test_atomic_folder_replaces_only_when_complete(tmp_path):
  target = tmp_path / 'model'
  files.atomic_folder(target, lambda d: open(os.path.join(d, 'a'), 'w').close())
  assert sorted(p.name for p in target.iterdir()) == ['a']
  assert target.stat().st_mode & 0o777 == 0o777 & ~current_umask()

  def interrupted(staging):
    open(os.path.join(staging, 'b'), 'w').close()
    raise KeyboardInterrupt
  with pytest.raises(KeyboardInterrupt):
    files.atomic_folder(target, interrupted)
  assert sorted(p.name for p in tmp_path.iterdir()) == ['model']
  assert sorted(p.name for p in target.iterdir()) == ['a']
