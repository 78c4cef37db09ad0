"""Shared command-line plumbing: naming, listing, code files, exit codes."""

import logging
import os

from absl import flags
import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet import codes
from magenta_wavenet.cli import common
from magenta_wavenet.errors import AudioError
from magenta_wavenet.errors import CodeError
from magenta_wavenet.errors import MagentaWavenetError


def test_output_paths_keep_whole_stems_and_never_collide(tmp_path):
  assert common.output_paths(['in/a.b.c.wav', 'in/x.wav'], 'out',
                             prefix='gen_', suffix='.wav') == [
                                 'out/gen_a.b.c.wav', 'out/gen_x.wav']
  # Same stem, different extensions: the extension is kept.
  assert common.output_paths(['in/a.wav', 'in/a.flac'], 'out',
                             suffix='.npy') == ['out/a.wav.npy',
                                                'out/a.flac.npy']
  # Same name in different folders: the folder is added.
  assert common.output_paths(['x/a.wav', 'y/a.wav'], 'out') == [
      'out/x_a.wav', 'out/y_a.wav']


def test_list_inputs_file_folder_glob_and_nothing(tmp_path):
  for name in ('b.wav', 'a.WAV', 'notes.txt', 'c.npy'):
    (tmp_path / name).write_bytes(b'x')
  (tmp_path / 'sub').mkdir()
  (tmp_path / 'sub' / 'd.wav').write_bytes(b'x')
  wavs = common.list_inputs(str(tmp_path), ['.wav'])
  assert [os.path.basename(p) for p in wavs] == ['a.WAV', 'b.wav']
  assert common.list_inputs(str(tmp_path / 'notes.txt'), ['.wav']) == [
      str(tmp_path / 'notes.txt')]
  found = common.list_inputs(str(tmp_path / '*' / '*.wav'), ['.wav'])
  assert found == [str(tmp_path / 'sub' / 'd.wav')]
  with pytest.raises(MagentaWavenetError,
                     match=r'sub: no \.flac files there'):
    common.list_inputs(str(tmp_path / 'sub'), ['.flac'])
  with pytest.raises(MagentaWavenetError, match='no such file or folder'):
    common.list_inputs(str(tmp_path / 'missing'), ['.wav'])


def test_load_code_refuses_pickles_bad_shapes_and_nan(tmp_path):
  config = mw.get_config('tiny')
  good = np.ones((1, 5, 4), np.float32)
  np.save(tmp_path / 'good.npy', good)
  np.testing.assert_array_equal(
      codes.load_code(tmp_path / 'good.npy', config), good[0])
  np.save(tmp_path / 'pickled.npy', np.array([{'a': 1}], dtype=object),
          allow_pickle=True)
  with pytest.raises(CodeError, match='pickled.npy: not a plain numeric'):
    codes.load_code(tmp_path / 'pickled.npy')
  np.save(tmp_path / 'rank1.npy', np.ones(5))
  with pytest.raises(CodeError, match=r'rank1.npy: expected .* \[5\]'):
    codes.load_code(tmp_path / 'rank1.npy')
  np.save(tmp_path / 'wide.npy', np.ones((5, 16)))
  with pytest.raises(CodeError, match=r'wide.npy: expected shape'):
    codes.load_code(tmp_path / 'wide.npy', config)
  np.save(tmp_path / 'nan.npy', np.full((5, 4), np.nan))
  with pytest.raises(CodeError, match='nan.npy: contains NaN'):
    codes.load_code(tmp_path / 'nan.npy')
  (tmp_path / 'text.npy').write_text('hello')
  with pytest.raises(CodeError, match='text.npy: not a plain numeric'):
    codes.load_code(tmp_path / 'text.npy')
  (tmp_path / 'empty.npy').write_bytes(b'')
  with pytest.raises(CodeError, match='empty.npy: not a plain numeric'):
    codes.load_code(tmp_path / 'empty.npy')
  np.savez(tmp_path / 'archive.npz', a=good)
  with pytest.raises(CodeError, match='archive.npz: an .npz archive'):
    codes.load_code(tmp_path / 'archive.npz')


def test_save_code_round_trips(tmp_path):
  code = np.random.default_rng(0).normal(size=(7, 4))
  codes.save_code(tmp_path / 'c.npy', code)
  np.testing.assert_allclose(np.load(tmp_path / 'c.npy'), code, rtol=1e-6)
  assert os.listdir(tmp_path) == ['c.npy']


def _flags():
  values = common.new_flags()
  flags.DEFINE_string('name', 'x', 'A name.', flag_values=values)
  return values


def test_run_turns_user_errors_into_one_line_and_status_1(capsys):
  def body(values):
    raise AudioError(f'{values.name}: the file is empty.')

  assert common.run(body, _flags(), ['prog', '--name=a.wav'], 'Doc.') == 1
  err = capsys.readouterr().err
  assert err == 'error: a.wav: the file is empty.\n'


def test_run_shows_the_traceback_only_with_debug(capsys):
  def body(unused_values):
    open('/nonexistent/folder/file.wav', 'rb')

  assert common.run(body, _flags(), ['prog', '--log=DEBUG'], 'Doc.') == 1
  err = capsys.readouterr().err
  assert 'Traceback' in err
  assert err.strip().endswith(
      'error: /nonexistent/folder/file.wav: No such file or directory.')
  assert common.run(body, _flags(), ['prog'], 'Doc.') == 1
  assert 'Traceback' not in capsys.readouterr().err


def test_run_ctrl_c_is_status_130_without_traceback(capsys):
  def body(unused_values):
    raise KeyboardInterrupt

  assert common.run(body, _flags(), ['prog'], 'Doc.') == 130
  assert capsys.readouterr().err == (
      'interrupted; files written so far are complete.\n')


def test_run_bad_flags_help_and_defaults_between_runs(capsys):
  values = _flags()
  seen = []
  assert common.run(lambda v: seen.append(v.name), values,
                        ['prog', '--name=first'], 'Doc.') == 0
  assert common.run(lambda v: seen.append(v.name), values, ['prog'],
                        'Doc.') == 0
  assert seen == ['first', 'x']
  assert common.run(lambda v: 0, values, ['prog', '--nope'], 'Doc.') == 2
  assert 'nope' in capsys.readouterr().err
  assert common.run(lambda v: 0, values, ['prog', '--help'],
                        'Usage doc.') == 0
  out = capsys.readouterr().out
  assert out.startswith('Usage doc.') and '--name' in out
  logging.getLogger().setLevel(logging.WARNING)


def test_batch_counts_failures_and_keeps_going(capsys):
  batch = common.Batch('done')
  for name in ('a', 'b', 'c'):
    with batch.item(name):
      if name == 'b':
        raise AudioError('b: broken.')
  assert batch.done == ['a', 'c']
  assert batch.finish() == 1
  err = capsys.readouterr().err
  assert 'error: b: broken.' in err
  assert '1 of 3 inputs failed; 2 done.' in err
  with pytest.raises(ZeroDivisionError):  # bugs are not user errors
    with batch.item('d'):
      _ = 1 / 0


def test_note_filter_flags_make_one_filter():
  flag_values = common.new_flags()
  common.define_note_filter_flags(flag_values, 'kept')
  flag_values(['prog', '--pitch_min=40', '--pitch_max=84',
               '--families=keyboard,3', '--sources=acoustic',
               '--velocities=75,127'])
  chosen = common.note_filter(flag_values)
  assert chosen.pitch_range == (40, 84)
  assert chosen.families == (4, 3)  # keyboard is family 4
  assert chosen.sources == (0,) and chosen.velocities == (75, 127)
  assert 'Lowest MIDI pitch kept.' in flag_values['pitch_min'].help
  everything = common.new_flags()
  common.define_note_filter_flags(everything, 'kept')
  everything(['prog'])
  assert common.note_filter(everything) == mw.data.NoteFilter(
      pitch_range=(0, 127))
  flag_values(['prog', '--velocities=loud'])
  with pytest.raises(MagentaWavenetError, match='--velocities must be '
                     'integers, got loud'):
    common.note_filter(flag_values)
