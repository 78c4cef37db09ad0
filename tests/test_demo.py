"""The demo command: code, plot and resynthesis of a bundled note."""

import numpy as np
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import demo
from conftest import randomize


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
