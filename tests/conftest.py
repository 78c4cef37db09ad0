"""Shared fixtures: quiet TensorFlow, deterministic seeds, small models."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # pylint: disable=wrong-import-position
import pytest  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

import magenta_wavenet as mw  # pylint: disable=wrong-import-position


def randomize(model, seed=0, bias_scale=0.1):
  """Gives every weight of `model` random values, biases non-zero.

  Keras' default initialization leaves biases at zero, which would hide a
  bias loaded into the wrong layer; this makes every variable distinct.
  """
  rng = np.random.default_rng(seed)
  for variable in model.weights:
    shape = tuple(variable.shape)
    if len(shape) == 1:
      value = rng.normal(0.0, bias_scale, shape)
    else:
      fan_in = int(np.prod(shape[:-1]))
      value = rng.uniform(-1, 1, shape) * np.sqrt(3.0 / fan_in)
    variable.assign(value.astype(np.float32))
  return model


def tiny_pitch_model(seed=4):
  """A random 'tiny' model conditioned on MIDI pitch (its code 5 channels:
  4 learned and the pitch)."""
  config = mw.get_config('tiny').replace(name='tiny_pitch', pitch_classes=128)
  return randomize(mw.NSynthAutoencoder(config), seed=seed)


@pytest.fixture(autouse=True)
def _seed():
  tf.keras.utils.set_random_seed(1234)


@pytest.fixture
def tiny_model():
  return randomize(mw.NSynthAutoencoder('tiny'))


def tone(samples, rate=16000, frequency=440.0):
  """A 0.5-amplitude sine of `samples` samples, float32."""
  return (0.5 * np.sin(2 * np.pi * frequency * np.arange(samples) / rate)
          ).astype(np.float32)


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
  """A saved random 'tiny' model (hop 64, 4 channels) and the model."""
  model = randomize(mw.NSynthAutoencoder('tiny'), seed=3)
  folder = tmp_path_factory.mktemp('model') / 'tiny'
  mw.save_model(model, folder)
  return str(folder), model


@pytest.fixture
def real_notes():
  """Two 2.5 s NSynth notes bundled with the package, [2, 40000] float32."""
  return np.stack([mw.load_audio(mw.bundled_sound(name))
                   for name in ('nsynth_e5', 'nsynth_a1')])
