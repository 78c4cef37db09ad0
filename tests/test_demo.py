"""The demo command: code, plot and resynthesis of a bundled note."""

from conftest import randomize
import numpy as np
import soundfile

import magenta_wavenet as mw
from magenta_wavenet.cli import demo
from magenta_wavenet.sound.pitch import f0
from magenta_wavenet.training import metrics


def test_demo_writes_and_lists_every_file(tmp_path, capsys):
  model = randomize(mw.NSynthAutoencoder('tiny'), seed=4)
  mw.save_model(model, tmp_path / 'model')
  out = tmp_path / 'out'
  assert demo.main(['demo', f'--checkpoint_path={tmp_path / "model"}',
                    f'--save_path={out}', '--sample_length=300',
                    '--sound=nsynth_a1']) == 0
  printed = capsys.readouterr().out
  for name in ('original.wav', 'code.npy', 'plot.png', 'resynthesis.wav'):
    assert str(out / f'nsynth_a1_{name}') in printed
  assert 'filter' not in printed  # none asked for
  assert not (out / 'nsynth_a1_filtered.wav').exists()
  audio = mw.load_audio(mw.bundled_sound('nsynth_a1'))[:256]
  code = np.load(out / 'nsynth_a1_code.npy')
  np.testing.assert_allclose(code, model.encode(audio[None]).numpy()[0],
                             rtol=1e-5, atol=1e-6)
  original, _ = soundfile.read(out / 'nsynth_a1_original.wav')
  np.testing.assert_allclose(original, audio, atol=1 / 32768)
  resynthesis, rate = soundfile.read(out / 'nsynth_a1_resynthesis.wav')
  assert rate == 16000 and resynthesis.shape == (256,)
  assert 'Encoded 256 samples of nsynth_a1 into a code of 4 frames x 4 ' in (
      printed)


def test_demo_unknown_sound_is_one_line(tmp_path, capsys):
  mw.save_model(mw.NSynthAutoencoder('tiny'), tmp_path / 'model')
  assert demo.main(['demo', f'--checkpoint_path={tmp_path / "model"}',
                    f'--save_path={tmp_path}', '--sound=piano']) == 1
  assert capsys.readouterr().err.splitlines()[-1] == (
      'error: piano: no such bundled sound; choose one of nsynth_a1, '
      'nsynth_b4, nsynth_e5.')


def test_shipped_model_resynthesis_keeps_the_note(tmp_path, capsys):
  """The README's main command on the default shipped model: the
  resynthesis is the note's pitch on most voiced frames (pYIN, within 50
  cents; 100% was measured, on the whole note and on this first second) at
  the note's loudness, not silence or noise. With the harmonic filter the
  filtered copy has much less noise between the harmonics (22.6 to 39.8 dB
  HNR measured on the whole note, the original 40.4)."""
  out = tmp_path / 'out'
  assert demo.main(['demo', f'--save_path={out}', '--sample_length=16000',
                    '--harmonic_filter_db=20']) == 0
  original = mw.load_audio(out / 'nsynth_e5_original.wav')
  resynthesis = mw.load_audio(out / 'nsynth_e5_resynthesis.wav')
  loudness = np.sqrt(np.mean(resynthesis**2) / np.mean(original**2))
  assert 0.5 < loudness < 2.0, loudness
  accuracy = metrics.pitch_accuracy(original, resynthesis)
  assert accuracy > 0.8, accuracy
  filtered = mw.load_audio(out / 'nsynth_e5_filtered.wav')
  assert f'resynthesis, 20 dB filter: {out / "nsynth_e5_filtered.wav"}' in (
      capsys.readouterr().out)
  f0_hz = f0(original)[0]
  assert metrics.harmonic_to_noise_db(filtered, f0_hz) > (
      metrics.harmonic_to_noise_db(resynthesis, f0_hz) + 10)
