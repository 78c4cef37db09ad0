"""The autoencoder: sizes, shapes, causality, receptive fields, XLA, goldens."""

import os

from conftest import randomize
import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw

GOLDEN = os.path.join(os.path.dirname(__file__), 'goldens', 'tiny.npz')


def test_full_size_parameter_counts():
  model = mw.NSynthAutoencoder('h512_bo16')
  assert model.encoder.count_params() == 1_976_336
  assert model.decoder.count_params() == 59_827_712
  assert model.count_params() == 61_804_048
  assert len(model.conv_layers()) == 187


def test_encode_shapes_and_trimming():
  model = mw.NSynthAutoencoder('h512_bo16')
  audio = np.random.default_rng(0).uniform(-1, 1, (1, 40000)).astype(
      np.float32)
  assert model.encode(audio).shape == (1, 78, 16)


def test_encode_is_the_mean_of_the_bottleneck(tiny_model):
  audio = np.random.default_rng(1).uniform(-.5, .5, (2, 700)).astype(
      np.float32)
  code = tiny_model.encode(audio).numpy()
  assert code.shape == (2, 10, 4)  # 700 -> 640 samples, hop 64
  scaled = mw.sound.dsp.to_network_input(
      mw.sound.dsp.mu_law_encode(audio[:, :640]))
  features = tiny_model.encoder.features(scaled).numpy()
  np.testing.assert_allclose(
      code, features.reshape(2, 10, 64, 4).mean(axis=2), atol=1e-6)


def test_too_short_or_badly_shaped_audio(tiny_model):
  with pytest.raises(mw.AudioError, match='fewer than one hop'):
    tiny_model.encode(np.zeros((1, 63), np.float32))
  with pytest.raises(mw.AudioError, match=r'\[batch, samples\]'):
    tiny_model.encode(np.zeros(640, np.float32))


def test_decoder_rejects_wrong_encodings(tiny_model):
  audio = np.zeros((1, 128), np.float32)
  with pytest.raises(mw.CodeError,
                     match=r'expected shape \[batch, frames, 4\]'):
    tiny_model.decoder_logits(audio, np.zeros((1, 2, 16), np.float32))
  with pytest.raises(mw.CodeError, match='fewer than the 128'):
    tiny_model.decoder_logits(audio, np.zeros((1, 1, 4), np.float32))


def _changed_outputs(model, audio, code, position):
  before = model.decoder_logits(audio, code).numpy()
  audio = audio.copy()
  audio[:, position] = -audio[:, position] + 0.3
  after = model.decoder_logits(audio, code).numpy()
  return np.flatnonzero(np.abs(after - before).max(axis=(0, 2)) > 0)


def test_decoder_is_causal_with_the_configured_receptive_field(tiny_model):
  config = tiny_model.config
  field = config.decoder_receptive_field  # 29 for tiny
  rng = np.random.default_rng(2)
  audio = rng.uniform(-.8, .8, (1, 256)).astype(np.float32)
  code = rng.normal(size=(1, 4, 4)).astype(np.float32)
  changed = _changed_outputs(tiny_model, audio, code, 100)
  assert changed.min() == 101  # output t sees x[< t] only
  assert changed.max() == 100 + field  # and no further back than the field


def test_full_decoder_receptive_field_is_6141():
  """The layers' own dilations add up to the config's 6,141 samples.

  Through all 30 layers the farthest path's gain (~0.3^30) is below float32
  resolution, so the perturbation test below uses one 10-layer cycle
  (dilations 1..512, the published schedule) at small width.
  """
  model = mw.NSynthAutoencoder('h512_bo16')
  decoder = model.decoder
  span = sum((block.dilated.filter_length - 1) * block.dilated.dilation
             for block in decoder.blocks)
  span += (decoder.startconv.filter_length - 1) * decoder.startconv.dilation
  assert span + 1 == model.config.decoder_receptive_field == 6141


def test_one_published_dilation_cycle_sees_2049_samples():
  config = mw.get_config('h512_bo16').replace(
      decoder_width=8, skip_width=8, encoder_width=8, decoder_layers=10,
      encoder_layers=2)
  model = randomize(mw.NSynthAutoencoder(config))
  for conv in [model.decoder.startconv] + [b.dilated for b in
                                           model.decoder.blocks]:
    conv.kernel.assign(conv.kernel * [[[4.0]], [[1.0]], [[1.0]]])
  assert config.decoder_receptive_field == 2049
  rng = np.random.default_rng(3)
  audio = rng.uniform(-.8, .8, (1, 2560)).astype(np.float32)
  code = rng.normal(size=(1, 5, 16)).astype(np.float32)
  changed = _changed_outputs(model, audio, code, 50)
  assert (changed.min(), changed.max()) == (51, 50 + 2049)


def frames_changed(before, after):
  """The frames where two codes [1, frames, channels] differ by more than
  rounding. `encode` runs Winograd's F(4, 3), whose transforms mix a tile's
  inputs, so a sample outside a frame's receptive field can still move it
  by rounding (1.5e-8 for the tiny model, against 9.5e-6 for the nearest
  sample inside, with codes up to 1.6)."""
  rounding = 1e-6 * np.abs(before).max()
  return np.flatnonzero(np.abs(after - before).max(axis=(0, 2)) > rounding)


def test_encoder_receptive_field(tiny_model):
  config = tiny_model.config
  half = (config.encoder_receptive_field - 1) // 2  # 16 for tiny
  rng = np.random.default_rng(4)
  audio = rng.uniform(-.8, .8, (1, 64 * 8)).astype(np.float32)
  position = 3 * 64 + 30
  before = tiny_model.encode(audio).numpy()
  audio[0, position] = -audio[0, position] + 0.3
  after = tiny_model.encode(audio).numpy()
  np.testing.assert_array_equal(frames_changed(before, after), [3])
  # Frame f sees samples [64 f - half, 64 f + 63 + half]; a sample within
  # `half` of a frame boundary reaches the neighbour too.
  for position, frames in [(3 * 64 - half, [2, 3]), (3 * 64 - half - 1, [2])]:
    audio2 = audio.copy()
    audio2[0, position] += 0.5
    moved = tiny_model.encode(audio2).numpy()
    np.testing.assert_array_equal(frames_changed(after, moved), frames)


def test_loss_is_the_mean_cross_entropy(tiny_model):
  audio = np.random.default_rng(5).uniform(-.5, .5, (2, 256)).astype(
      np.float32)
  logits = tiny_model(audio)
  labels = mw.sound.dsp.mu_law_encode(audio).numpy() + 128
  log_probs = tf.nn.log_softmax(logits).numpy()
  expected = -np.take_along_axis(log_probs, labels[..., None], -1).mean()
  np.testing.assert_allclose(tiny_model.nll(audio).numpy(), expected,
                             rtol=1e-5)


def test_xla_equals_eager(tiny_model):
  audio = np.random.default_rng(6).uniform(-.5, .5, (2, 512)).astype(
      np.float32)
  eager_code = tiny_model.encode(audio)
  eager_logits = tiny_model.decoder_logits(audio, eager_code)
  jit_code = tf.function(tiny_model.encode, jit_compile=True)(audio)
  jit_logits = tf.function(tiny_model.decoder_logits, jit_compile=True)(
      audio, eager_code)
  np.testing.assert_allclose(jit_code, eager_code, atol=1e-5)
  np.testing.assert_allclose(jit_logits, eager_logits, atol=1e-4)


def test_keras_file_round_trip(tiny_model, tmp_path):
  path = str(tmp_path / 'tiny.keras')
  tiny_model.save(path)
  restored = mw.load_model(path)
  audio = np.random.default_rng(7).uniform(-.5, .5, (1, 256)).astype(
      np.float32)
  np.testing.assert_array_equal(restored(audio), tiny_model(audio))


def test_goldens():
  """Fixed weights and input give the stored code and logits (make_goldens)."""
  from goldens import make_goldens  # pylint: disable=import-outside-toplevel
  stored = np.load(GOLDEN)
  model, audio = make_goldens.golden_model_and_audio()
  code = model.encode(audio).numpy()
  np.testing.assert_allclose(code, stored['code'], atol=1e-5)
  np.testing.assert_allclose(model.decoder_logits(audio, code).numpy(),
                             stored['logits'], atol=1e-4)
