"""Shared fixtures: quiet TensorFlow, deterministic seeds, small models."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # pylint: disable=wrong-import-position
import pytest  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

import magenta_wavenet as mw  # pylint: disable=wrong-import-position

# 'tiny' with the pitch conditioning of h64_bo16_pitch: codes of 4 + 1
# channels.
TINY_PITCH = mw.get_config('tiny').replace(name='tiny_pitch',
                                           pitch_classes=128)


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
  """A random `TINY_PITCH` model."""
  return randomize(mw.NSynthAutoencoder(TINY_PITCH), seed=seed)


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


@pytest.fixture(scope='module')
def tiny_pitch_checkpoint(tmp_path_factory):
  """A saved random `TINY_PITCH` model and the model."""
  model = randomize(mw.NSynthAutoencoder(TINY_PITCH), seed=5)
  folder = tmp_path_factory.mktemp('model') / 'tiny_pitch'
  mw.save_model(model, folder)
  return str(folder), model


@pytest.fixture
def real_notes():
  """Two 2.5 s NSynth notes bundled with the package, [2, 40000] float32."""
  return np.stack([mw.load_audio(mw.bundled_sound(name))
                   for name in ('nsynth_e5', 'nsynth_a1')])
