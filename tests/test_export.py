"""SavedModel export: reloaded signatures equal the library's results."""

import os
import subprocess
import sys

from conftest import randomize
import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet import serving
from magenta_wavenet.cli import export
from magenta_wavenet.sound import dsp
from magenta_wavenet.synthesis import generation

CHUNK = 96  # not a divisor of the lengths below: the last chunk is partial

# Runs a SavedModel where only TensorFlow is installed: importing this
# package or librosa fails, and so would a graph that needed them.
TENSORFLOW_ONLY = r"""
import sys


class NotInstalled:

  def find_spec(self, name, path=None, target=None):
    if name.partition('.')[0] in ('magenta_wavenet', 'librosa'):
      raise ImportError(name + ' is not installed here')


sys.meta_path.insert(0, NotInstalled())
import numpy as np
import tensorflow as tf

folder, inputs, outputs = sys.argv[1:]
given = np.load(inputs)
m = tf.saved_model.load(folder)
try:
  m.encode(given['audio'], np.float32([128.0]))
  refused = ''
except tf.errors.InvalidArgumentError as error:
  refused = error.message
np.savez(
    outputs, estimated=m.encode(given['audio'])['code'],
    at_pitch=m.encode(given['audio'], given['pitch'])['code'],
    signature_at_pitch=m.signatures['encode_at_pitch'](
        audio=tf.constant(given['audio']),
        pitch=tf.constant(given['pitch'][1:]))['code'],
    audio=m.generate(given['code'], 5, 0.9)['audio'], refused=refused)
"""


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
  model = randomize(mw.NSynthAutoencoder('tiny'), seed=7)
  folder = tmp_path_factory.mktemp('export') / 'saved'
  mw.save_model(model, folder.parent / 'model')
  assert export.main(['export', f'--checkpoint_path={folder.parent / "model"}',
                      f'--save_path={folder}', f'--chunk_size={CHUNK}']) == 0
  return model, str(folder), tf.saved_model.load(str(folder))


def test_encode_signature_equals_model_encode(exported):
  model, _, loaded = exported
  audio = np.random.default_rng(0).uniform(-0.8, 0.8, (2, 300)).astype(
      np.float32)
  code = loaded.signatures['encode'](audio=tf.constant(audio))['code']
  assert code.shape == (2, 4, 4)
  np.testing.assert_allclose(code, model.encode(audio), rtol=1e-5, atol=1e-5)


def test_generate_signature_equals_synthesize_with_the_same_seed(exported):
  model, _, loaded = exported
  code = np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32)
  audio = loaded.signatures['generate'](
      code=tf.constant(code), seed=tf.constant(11),
      temperature=tf.constant(0.7))['audio'].numpy()
  # The SavedModel runs the XLA loop, and draws its noise as that does.
  expected = generation.synthesize(model, code, seed=11, temperature=0.7,
                                   chunk_size=CHUNK, runtime='xla')
  assert audio.shape == (2, 192)
  np.testing.assert_array_equal(audio, expected)


def test_decode_step_with_explicit_state_is_teacher_forcing(exported):
  model, _, loaded = exported
  rng = np.random.default_rng(2)
  audio = rng.uniform(-0.5, 0.5, (2, 150)).astype(np.float32)
  code = rng.normal(size=(2, 3, 4)).astype(np.float32)
  expected = model.decoder_logits(audio, code).numpy()
  start = loaded.signatures['init_state'](batch_size=tf.constant(2))
  position, x_prev, state = start['position'], start['x_prev'], start['state']
  inputs = dsp.to_network_input(dsp.mu_law_encode(audio)).numpy()
  step = loaded.signatures['decode_step']
  for t in range(150):
    out = step(code_frame=tf.constant(code[:, t // 64]), x_prev=x_prev,
               position=position, state=state)
    np.testing.assert_allclose(out['logits'], expected[:, t], rtol=1e-4,
                               atol=1e-4)
    position, state = out['position'], out['state']
    x_prev = tf.constant(inputs[:, t])
  assert int(position) == 150


def test_export_refuses_to_replace_a_folder_that_is_not_a_saved_model(
    exported, tmp_path, capsys):
  model, _, _ = exported
  mw.save_model(model, tmp_path / 'model')
  (tmp_path / 'keep').mkdir()
  (tmp_path / 'keep' / 'notes.txt').write_text('mine')
  assert export.main(['export', f'--checkpoint_path={tmp_path / "model"}',
                      f'--save_path={tmp_path / "keep"}']) == 1
  assert capsys.readouterr().err.endswith(
      'keep: not empty and not a SavedModel; not replacing it.\n')
  assert (tmp_path / 'keep' / 'notes.txt').read_text() == 'mine'
  assert export.main(['export', f'--checkpoint_path={tmp_path / "model"}'
                      ]) == 1
  assert capsys.readouterr().err.endswith('--save_path is required.\n')


@pytest.fixture(scope='module')
def default_export(tmp_path_factory):
  """The export of the default model: no --checkpoint_path."""
  folder = tmp_path_factory.mktemp('default') / 'saved'
  assert export.main(['export', f'--save_path={folder}',
                      f'--chunk_size={CHUNK}']) == 0
  return mw.load_model('h64_bo16_pitch'), str(folder)


def test_default_model_export_runs_with_tensorflow_alone(default_export,
                                                         tmp_path):
  model, folder = default_export
  audio = np.stack([mw.load_audio(mw.bundled_sound(name))[:2048]
                    for name in ('nsynth_e5', 'nsynth_a1')])
  pitch = np.float32([40.0, 52.5])
  code = np.random.default_rng(3).normal(size=(1, 2, 17)).astype(np.float32)
  code[..., -1] = 64.0
  np.savez(tmp_path / 'in.npz', audio=audio, pitch=pitch, code=code)
  subprocess.run([sys.executable, '-c', TENSORFLOW_ONLY, folder,
                  tmp_path / 'in.npz', tmp_path / 'out.npz'], check=True,
                 timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'))
  out = np.load(tmp_path / 'out.npz')
  # The pitch estimated in the graph is the library's (pYIN's): E5, A1.
  # Raised to the model's level first, as every command encodes.
  assert mw.get_config('h64_bo16_pitch').input_peak > np.abs(audio).max()
  expected = mw.encode_at_level(model, audio)
  assert out['estimated'].shape == (2, 4, 17)
  np.testing.assert_array_equal(out['estimated'][:, :, -1], [[76] * 4,
                                                             [33] * 4])
  np.testing.assert_allclose(out['estimated'], expected, atol=1e-5)
  np.testing.assert_allclose(out['at_pitch'],
                             mw.encode_at_level(model, audio, pitch),
                             atol=1e-5)
  # One pitch for every clip.
  np.testing.assert_allclose(out['signature_at_pitch'],
                             mw.encode_at_level(model, audio, pitch[1:]),
                             atol=1e-5)
  assert 'pitch must be MIDI numbers in [0, 127]' in str(out['refused'])
  np.testing.assert_array_equal(out['audio'], generation.synthesize(
      model, code, seed=5, temperature=0.9, chunk_size=CHUNK, runtime='xla'))


def test_saved_model_cli_lists_the_signatures(default_export):
  _, folder = default_export
  cli = os.path.join(os.path.dirname(sys.executable), 'saved_model_cli')
  result = subprocess.run(
      [cli, 'show', '--dir', folder, '--tag_set', 'serve'],
      capture_output=True, text=True, timeout=120, check=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'))
  for name in ('encode', 'encode_at_pitch', 'generate', 'init_state',
               'decode_step'):
    assert f'"{name}"' in result.stdout, result.stdout


def test_unconditioned_shipped_model_export(tmp_path):
  # Its generate is the loop the tiny model's test holds to synthesize;
  # compiling it for this model would add 15 s.
  model = mw.load_model('h64_bo16')
  serving.export_saved_model(model, tmp_path / 'saved', CHUNK)
  loaded = tf.saved_model.load(str(tmp_path / 'saved'))
  assert sorted(loaded.signatures) == ['decode_step', 'encode', 'generate',
                                       'init_state']
  audio = mw.load_audio(mw.bundled_sound('nsynth_b4'))[None, :2048]
  code = loaded.signatures['encode'](audio=tf.constant(audio))['code']
  assert code.shape == (1, 4, 16)
  np.testing.assert_allclose(code, mw.encode_at_level(model, audio),
                             atol=1e-5)
