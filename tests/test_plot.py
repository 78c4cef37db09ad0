"""plotting.plot_code and the plot command line."""

from conftest import randomize
import matplotlib
import numpy as np
import pytest
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import plotting
from magenta_wavenet.cli import plot
from magenta_wavenet.errors import CodeError

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def test_waveform_and_code_share_a_time_axis_in_seconds():
  audio = np.sin(np.arange(16000) / 10.0).astype(np.float32)
  code = np.random.default_rng(0).normal(size=(31, 16))
  backend = matplotlib.get_backend()
  figure = plotting.plot_code(audio, code[None], title='note')
  assert matplotlib.get_backend() == backend  # the caller's is left alone
  top, bottom, colour_bar = figure.axes
  assert colour_bar.get_ylabel() == 'code value'
  assert top.get_shared_x_axes().joined(top, bottom)
  assert bottom.get_xlabel() == 'time (s)'
  assert top.get_title(loc='left') == 'note'
  # One heat-map row per channel; frame i spans [i, i + 1) * 512 / 16000 s.
  mesh = bottom.collections[0]
  np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(16, 31),
                                code.T.astype(np.float32))
  corners = mesh.get_coordinates()  # [rows + 1, columns + 1, (x, y)]
  np.testing.assert_allclose(corners[0, :, 0], np.arange(32) * 0.032)
  np.testing.assert_allclose(corners[:, 0, 1], np.arange(17) - 0.5)
  # A long waveform is drawn as its min-max envelope over 2000 bins.
  band = top.collections[0].get_paths()[0].vertices
  assert band[:, 1].max() == pytest.approx(audio.max())
  assert band[:, 0].max() == pytest.approx(15999 / 16000 - 3.5 / 16000)
  assert bottom.get_xlim() == (0.0, 1.0)
  with pytest.raises(CodeError, match=r'\[frames, channels\]'):
    plotting.plot_code(audio, np.zeros(5))


def test_a_pitched_codes_pitch_is_named_not_drawn():
  audio = np.zeros(2048, np.float32)
  learned = np.random.default_rng(1).normal(size=(4, 16))
  code = np.concatenate([learned, np.full((4, 1), 76.0)], axis=1)
  bottom = plotting.plot_code(audio, code, pitched=True).axes[1]
  assert bottom.get_title(loc='left') == (
      'code: 16 channels x 4 frames (31.25 frames/s), pitch 76 (E5)')
  np.testing.assert_array_equal(
      np.asarray(bottom.collections[0].get_array()).reshape(16, 4),
      learned.T.astype(np.float32))
  code[2:, -1] = 79.0  # a pitch that moves: a mix or a glide
  bottom = plotting.plot_code(audio, code, pitched=True).axes[1]
  assert bottom.get_title(loc='left').endswith('pitch 76-79 (E5-G5)')


def test_short_waveform_is_a_line():
  audio = np.linspace(-1, 1, 640, dtype=np.float32)
  top = plotting.plot_code(audio, np.zeros((1, 16))).axes[0]
  np.testing.assert_array_equal(top.lines[0].get_ydata(), audio)
  np.testing.assert_allclose(top.lines[0].get_xdata(), np.arange(640) / 16000)


def test_save_plot_writes_a_png(tmp_path):
  plotting.save_plot(tmp_path / 'p.png', np.zeros(1024),
                     np.zeros((2, 16)))
  assert (tmp_path / 'p.png').read_bytes()[:8] == PNG_MAGIC
  assert [p.name for p in tmp_path.iterdir()] == ['p.png']


def test_plot_command_audio_plus_code_and_audio_only(tmp_path, capsys):
  model = randomize(mw.NSynthAutoencoder('tiny'))
  mw.save_model(model, tmp_path / 'model')
  audio = (0.3 * np.sin(np.arange(640) / 5.0)).astype(np.float32)
  soundfile.write(tmp_path / 'a.wav', audio, 16000)
  np.save(tmp_path / 'a.npy', np.ones((1, 20, 16), np.float32))
  assert plot.main(['plot', f'--source_path={tmp_path / "a.wav"}',
                    f'--code={tmp_path / "a.npy"}',
                    f'--save_path={tmp_path / "one.png"}']) == 0
  assert (tmp_path / 'one.png').read_bytes()[:8] == PNG_MAGIC
  soundfile.write(tmp_path / 'b.v2.wav', audio[::-1].copy(), 16000)
  assert plot.main(['plot', f'--source_path={tmp_path}',
                    f'--checkpoint_path={tmp_path / "model"}',
                    f'--save_path={tmp_path / "plots"}']) == 0
  assert sorted(p.name for p in (tmp_path / 'plots').iterdir()) == [
      'a.png', 'b.v2.png']
  capsys.readouterr()
  np.save(tmp_path / 'bad.npy', np.ones((2, 3, 4, 5)))
  assert plot.main(['plot', f'--source_path={tmp_path / "a.wav"}',
                    f'--code={tmp_path / "bad.npy"}',
                    f'--save_path={tmp_path / "bad.png"}']) == 1
  err = capsys.readouterr().err
  assert err == (f'error: {tmp_path / "bad.npy"}: expected a numeric array '
                 '[frames, channels], got float64 [2, 3, 4, 5].\n')
