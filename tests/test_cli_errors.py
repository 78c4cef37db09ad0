"""Every command: bad checkpoints, save paths and sources give one line, 1."""

import json

import numpy as np
import pytest
import soundfile
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet.cli import demo
from magenta_wavenet.cli import export
from magenta_wavenet.cli import generate
from magenta_wavenet.cli import mix
from magenta_wavenet.cli import plot
from magenta_wavenet.cli import save_embeddings
from magenta_wavenet.model.checkpoint import variable_table

COMMANDS = {
    'save_embeddings': (save_embeddings.main, ['--source_path={wav}']),
    'generate': (generate.main, ['--source_path={wav}']),
    'mix': (mix.main, ['--mix={wav}:0.5,{wav}:0.5']),
    'plot': (plot.main, ['--source_path={wav}']),
    'export': (export.main, []),
    'demo': (demo.main, ['--sample_length=128']),
}


@pytest.fixture(scope='module')
def files(tmp_path_factory):
  """A good WAV, a good tiny model, one with a missing variable and one with
  a mis-shaped variable, and a plain file to put folders under."""
  folder = tmp_path_factory.mktemp('errors')
  soundfile.write(folder / 'a.wav', np.zeros(256, np.float32), 16000)
  model = mw.NSynthAutoencoder('tiny')
  mw.save_model(model, folder / 'good')
  table = variable_table(model)
  names = sorted(name for name in table if name != 'logits/biases')
  (folder / 'missing').mkdir()
  (folder / 'missing' / 'config.json').write_text(
      json.dumps(model.config.to_dict()))
  tf.raw_ops.SaveV2(
      prefix=str(folder / 'missing' / 'model.ckpt'), tensor_names=names,
      shape_and_slices=[''] * len(names),
      tensors=[tf.reshape(table[n][0], table[n][1]) for n in names])
  mw.save_model(model, folder / 'misshaped')
  wide = model.config.replace(decoder_width=10).to_dict()
  (folder / 'misshaped' / 'config.json').write_text(json.dumps(wide))
  (folder / 'plain.txt').write_text('x')
  return folder


def run(name, files, *extra):
  main, flags = COMMANDS[name]
  argv = [name] + [f.format(wav=files / 'a.wav') for f in flags]
  defaults = {'--checkpoint_path': f'--checkpoint_path={files / "good"}',
              '--save_path': f'--save_path={files / "out" / name}'}
  for flag in extra:
    defaults[flag.split('=')[0]] = flag
  return main(argv + list(defaults.values()))


def only_error_line(capsys):
  err = capsys.readouterr().err
  errors = [line for line in err.splitlines() if line.startswith('error: ')]
  assert len(errors) == 1 and 'Traceback' not in err, err
  return errors[0]


@pytest.mark.parametrize('name', sorted(COMMANDS))
def test_checkpoint_with_a_missing_variable(name, files, capsys):
  assert run(name, files, f'--checkpoint_path={files / "missing"}') == 1
  assert 'missing logits/biases (expected [256])' in only_error_line(capsys)


@pytest.mark.parametrize('name', sorted(COMMANDS))
def test_checkpoint_with_mis_shaped_variables(name, files, capsys):
  assert run(name, files, f'--checkpoint_path={files / "misshaped"}') == 1
  line = only_error_line(capsys)
  assert 'misshaped/model.ckpt: does not fit' in line
  assert 'startconv/W has shape [1, 3, 1, 8], expected [1, 3, 1, 10]' in line


@pytest.mark.parametrize('name', sorted(COMMANDS))
def test_no_such_checkpoint(name, files, capsys):
  assert run(name, files, f'--checkpoint_path={files / "nope"}') == 1
  assert only_error_line(capsys) == (
      f'error: {files / "nope"}: no such checkpoint.')


@pytest.mark.parametrize('name', sorted(COMMANDS))
def test_unwritable_save_path(name, files, capsys):
  target = files / 'plain.txt' / 'out'
  assert run(name, files, f'--save_path={target}') == 1
  line = only_error_line(capsys)
  assert line in (f'error: {target}: Not a directory.',
                  f'error: {files / "plain.txt"}: exists and is not a folder.')
