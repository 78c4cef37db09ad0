"""Loading checkpoints in the published TF1 layout, and the project's own."""

import os

import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet.model import checkpoint


def write_tf1_checkpoint(prefix, shapes, seed=0, with_ema=True,
                         skip=(), reshape=None):
  """Writes a checkpoint the way Magenta's trainer does: tf.compat.v1
  variables named `<scope>/W`/`<scope>/biases`, their EMA copies, Adam slots
  and global_step, saved by `tf.compat.v1.train.Saver`.

  Returns {name: value} of the raw and EMA variables written.
  """
  rng = np.random.default_rng(seed)
  values = {}
  graph = tf.Graph()
  with graph.as_default():
    variables = []
    for name, shape in sorted(shapes.items()):
      if name in skip:
        continue
      shape = (reshape or {}).get(name, shape)
      value = rng.normal(0, 0.05, shape).astype(np.float32)
      values[name] = value
      variables.append(tf.compat.v1.get_variable(
          name, initializer=tf.constant(value)))
      if with_ema:
        values[name + '/ExponentialMovingAverage'] = value + 1.0
        variables.append(tf.compat.v1.get_variable(
            name + '/ExponentialMovingAverage',
            initializer=tf.constant(value + 1.0)))
      for slot in ('Adam', 'Adam_1'):
        variables.append(tf.compat.v1.get_variable(
            f'{name}/{slot}', initializer=tf.zeros(shape)))
    variables.append(tf.compat.v1.get_variable(
        'global_step', initializer=tf.constant(200000)))
    saver = tf.compat.v1.train.Saver(variables)
    with tf.compat.v1.Session(graph=graph) as session:
      session.run(tf.compat.v1.global_variables_initializer())
      saver.save(session, prefix)
  return values


def expected_shapes(preset):
  return {name: shape for name, (_, shape) in
          checkpoint.variable_table(mw.NSynthAutoencoder(preset)).items()}


def assert_loaded(model, values, suffix=''):
  for name, (variable, shape) in checkpoint.variable_table(model).items():
    np.testing.assert_array_equal(
        np.reshape(variable.numpy(), shape), values[name + suffix],
        err_msg=name)


def test_published_names_and_shapes():
  shapes = expected_shapes('h512_bo16')
  assert shapes['ae_dilatedconv_7/W'] == (1, 3, 128, 128)
  assert shapes['dilatedconv_12/W'] == (1, 3, 512, 1024)
  assert shapes['res_3/W'] == (1, 1, 512, 512)
  assert shapes['cond_map_out1/W'] == (1, 1, 16, 256)
  assert shapes['logits/biases'] == (256,)
  assert len(shapes) == 374


def test_full_size_tf1_checkpoint_round_trip(tmp_path):
  prefix = str(tmp_path / 'model.ckpt-200000')
  values = write_tf1_checkpoint(prefix, expected_shapes('h512_bo16'))
  model = mw.load_model(prefix)
  assert model.config.name == 'h512_bo16'
  assert_loaded(model, values)
  ema_model = mw.load_model(prefix, use_ema=True)
  assert_loaded(ema_model, values, '/ExponentialMovingAverage')
  # A saved copy, in the same layout, loads back identically.
  mw.save_model(model, tmp_path / 'copy')
  assert_loaded(mw.load_model(tmp_path / 'copy'), values)


@pytest.mark.parametrize('suffix', ['', '.index', '.data-00000-of-00001',
                                    '.meta', 'FOLDER'])
def test_accepts_every_form_users_pass(tmp_path, suffix):
  prefix = str(tmp_path / 'model.ckpt-200000')
  values = write_tf1_checkpoint(prefix, expected_shapes('tiny'),
                                with_ema=False)
  path = str(tmp_path) if suffix == 'FOLDER' else prefix + suffix
  model = mw.load_model(path)
  assert model.config == mw.get_config('tiny')
  assert_loaded(model, values)


def test_folder_without_checkpoint_state_picks_newest_step(tmp_path):
  shapes = expected_shapes('tiny')
  write_tf1_checkpoint(str(tmp_path / 'model.ckpt-100'), shapes, seed=1)
  newest = write_tf1_checkpoint(str(tmp_path / 'model.ckpt-200'), shapes,
                                seed=2)
  os.remove(tmp_path / 'checkpoint')
  assert_loaded(mw.load_model(str(tmp_path)), newest)


def test_missing_and_misshaped_variables_are_all_named(tmp_path):
  prefix = str(tmp_path / 'model.ckpt-1')
  write_tf1_checkpoint(
      prefix, expected_shapes('tiny'), skip=('res_2/W', 'logits/biases'),
      reshape={'cond_map_3/W': (1, 1, 4, 15)})
  with pytest.raises(mw.CheckpointError) as error:
    mw.load_model(prefix, config='tiny')
  message = str(error.value)
  assert prefix in message
  assert 'missing res_2/W (expected [1, 1, 8, 8])' in message
  assert 'missing logits/biases (expected [256])' in message
  assert 'cond_map_3/W has shape [1, 1, 4, 15], expected [1, 1, 4, 16]' in (
      message)


def test_inferred_config_for_non_preset_shapes(tmp_path):
  config = mw.get_config('tiny').replace(
      name='x', decoder_width=12, decoder_stages=6, encoder_stages=4,
      hop_length=512)
  shapes = {name: shape for name, (_, shape) in
            checkpoint.variable_table(mw.NSynthAutoencoder(config)).items()}
  write_tf1_checkpoint(str(tmp_path / 'model.ckpt-5'), shapes)
  inferred = mw.load_model(str(tmp_path)).config
  assert (inferred.decoder_width, inferred.decoder_layers,
          inferred.decoder_stages) == (12, 6, 6)


@pytest.mark.parametrize('make, message', [
    (lambda d: str(d / 'nothing'), 'no such checkpoint'),
    (lambda d: str(d), 'holds no checkpoint'),
    (lambda d: (d / 'x.ckpt.index').write_text('not a checkpoint') and str(
        d / 'x.ckpt'), 'unreadable checkpoint'),
    (lambda d: str(d / 'model.keras'), 'no such file')])
def test_bad_paths(tmp_path, make, message):
  with pytest.raises(mw.CheckpointError, match=message):
    mw.load_model(make(tmp_path))


def test_not_an_nsynth_checkpoint(tmp_path):
  prefix = str(tmp_path / 'other.ckpt')
  write_tf1_checkpoint(prefix, {'dense/kernel': (3, 4)})
  with pytest.raises(mw.CheckpointError, match='not an NSynth WaveNet'):
    mw.load_model(prefix)
