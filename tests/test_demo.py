"""The demo command: code, plot and resynthesis of a bundled note."""

from conftest import randomize
import numpy as np
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import pitch
from magenta_wavenet.cli import demo


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


def test_shipped_model_resynthesis_keeps_the_note(tmp_path):
  """The README's main command on the shipped model: the resynthesis is a
  tone near the note's pitch at the note's loudness, not silence or noise.
  (The shipped model keeps the pitch on a fraction of the frames only, so
  the median f0 is checked, within a semitone.)"""
  out = tmp_path / 'out'
  assert demo.main(['demo', f'--save_path={out}',
                    '--sample_length=16000']) == 0
  original = mw.load_audio(out / 'nsynth_e5_original.wav')
  resynthesis = mw.load_audio(out / 'nsynth_e5_resynthesis.wav')
  loudness = np.sqrt(np.mean(resynthesis**2) / np.mean(original**2))
  assert 0.5 < loudness < 2.0, loudness
  f_original, voiced_original = pitch.f0(original)
  f_resynthesis, voiced_resynthesis = pitch.f0(resynthesis)
  assert voiced_resynthesis.mean() > 0.5
  cents = 1200 * np.log2(np.median(f_resynthesis[voiced_resynthesis])
                         / np.median(f_original[voiced_original]))
  assert abs(cents) < 100, cents
