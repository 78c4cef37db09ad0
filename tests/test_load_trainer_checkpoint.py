"""load_model on a training run's logdir and on its trainer checkpoints."""

import os
import types

from conftest import tone
import numpy as np
import pytest
import soundfile
from test_train import options
from test_train import train_file  # noqa: F401  pylint: disable=unused-import

import magenta_wavenet as mw
from magenta_wavenet.cli import save_embeddings
from magenta_wavenet.training import trainer


def snapshot(loop):
  """The trainer's raw and averaged weights now, as numpy arrays."""
  return types.SimpleNamespace(
      raw=[v.numpy() for v in loop.model.trainable_variables],
      ema=loop.average.values())


def weights(model):
  return [v.numpy() for v in model.trainable_variables]


def assert_weights_equal(actual, expected):
  assert len(actual) == len(expected)
  for a, b in zip(actual, expected):
    np.testing.assert_array_equal(a, b)


def assert_weights_differ(a, b):
  assert any(not np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope='module')
def run(train_file, tmp_path_factory):  # noqa: F811  pylint: disable=redefined-outer-name
  """A run trained to step 2, loaded, then resumed to step 4.

  Checkpoints are saved at steps 2 and 4; the export holds step 4's average.
  """
  logdir = str(tmp_path_factory.mktemp('run'))
  first = trainer.Trainer(options(train_file, logdir, num_steps=2,
                                  jit_compile=False))
  first.train()
  at_2 = snapshot(first)
  loaded_at_2 = types.SimpleNamespace(
      raw=weights(mw.load_model(logdir)),
      ema=weights(mw.load_model(logdir, use_ema=True)))
  second = trainer.Trainer(options(train_file, logdir, jit_compile=False))
  second.train()
  return types.SimpleNamespace(logdir=logdir, at_2=at_2, at_4=snapshot(second),
                               loaded_at_2=loaded_at_2)


def test_logdir_gives_the_latest_raw_weights_during_training(run):
  assert_weights_equal(run.loaded_at_2.raw, run.at_2.raw)
  assert_weights_differ(run.at_2.raw, run.at_2.ema)


def test_use_ema_gives_the_averaged_weights(run):
  assert_weights_equal(run.loaded_at_2.ema, run.at_2.ema)
  model = mw.load_model(run.logdir, use_ema=True)
  assert_weights_equal(weights(model), run.at_4.ema)


def test_logdir_follows_the_run_to_its_newest_checkpoint(run):
  model = mw.load_model(run.logdir)
  assert model.config.name == 'tiny'
  assert_weights_equal(weights(model), run.at_4.raw)
  assert_weights_differ(run.at_4.raw, run.at_2.raw)
  # The export beside the checkpoints stays its own checkpoint.
  export = mw.load_model(os.path.join(run.logdir, 'export'))
  assert_weights_equal(weights(export), run.at_4.ema)


def test_a_checkpoint_prefix_loads_that_step(run):
  prefix = os.path.join(run.logdir, 'ckpt-2')
  assert_weights_equal(weights(mw.load_model(prefix)), run.at_2.raw)
  assert_weights_equal(weights(mw.load_model(prefix + '.index',
                                             use_ema=True)), run.at_2.ema)


def test_without_config_json_the_error_names_the_checkpoint(run, tmp_path):
  for name in os.listdir(run.logdir):
    if name.startswith('ckpt-4.'):
      os.symlink(os.path.join(run.logdir, name), tmp_path / name)
  with pytest.raises(mw.CheckpointError) as error:
    mw.load_model(tmp_path)
  message = str(error.value)
  assert message.startswith(f'{tmp_path / "ckpt-4"}: a training checkpoint')
  assert '\n' not in message
  model = mw.load_model(tmp_path, config='tiny')
  assert_weights_equal(weights(model), run.at_4.raw)


def test_wrong_config_is_one_line_naming_the_checkpoint(run):
  with pytest.raises(mw.CheckpointError) as error:
    mw.load_model(run.logdir, config='h64_bo16')
  message = str(error.value)
  assert message.startswith(os.path.join(run.logdir, 'ckpt-4') + ': ')
  assert '\n' not in message


def test_command_line_accepts_the_logdir(run, tmp_path):
  soundfile.write(tmp_path / 'note.wav', tone(256), 16000)
  assert save_embeddings.main([
      'save_embeddings', f'--checkpoint_path={run.logdir}',
      f'--source_path={tmp_path / "note.wav"}',
      f'--save_path={tmp_path / "out"}']) == 0
  model = mw.NSynthAutoencoder('tiny')
  for variable, value in zip(model.trainable_variables, run.at_4.raw):
    variable.assign(value)
  expected = model.encode(tone(256)[None]).numpy()[0]
  saved = np.load(tmp_path / 'out' / 'note_embeddings.npy')
  np.testing.assert_allclose(saved, expected, rtol=1e-5, atol=1e-6)
