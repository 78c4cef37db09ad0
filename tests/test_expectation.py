"""Each sample's expected value: the teacher-forced mean over the drawn
samples, in windows equal to one pass, and what generation returns with
`expected_value`."""

import functools

import numpy as np
import pytest
import tensorflow as tf
from test_generation import random_inputs

import magenta_wavenet as mw
from magenta_wavenet.sound import dsp
from magenta_wavenet.synthesis import expectation
from magenta_wavenet.synthesis import generation
from magenta_wavenet.synthesis.incremental import feedback_tables


def one_pass_means(model, codes, audio, temperature=1.0):
  logits = model.decoder_logits(audio, codes) / temperature
  return tf.linalg.matvec(tf.nn.softmax(logits), feedback_tables()[0]).numpy()


def test_windows_give_the_means_of_one_pass(tiny_model, monkeypatch):
  """700 samples of 2 rows in windows of 64 (a tenth of the decoder's
  receptive field): the same means as one teacher-forced pass."""
  _, codes = random_inputs(tiny_model.config, 2, 700, seed=1)
  drawn = generation.synthesize(tiny_model, codes, seed=2)[:, :700]
  monkeypatch.setattr(expectation, 'WINDOW_SAMPLES', 128)
  means = expectation.expected_audio(tiny_model.decoder, codes, drawn, 0.8)
  np.testing.assert_allclose(
      means, one_pass_means(tiny_model, codes, drawn, 0.8), atol=1e-6)
  assert means.dtype == np.float32 and np.abs(means).max() <= 1.0
  # Means are not mu-law values, as the draws are.
  classes = dsp.to_class(dsp.mu_law_encode(means))
  assert not np.allclose(dsp.mu_law_decode(dsp.from_class(classes)), means)
  np.testing.assert_array_equal(
      expectation.expected_audio(tiny_model.decoder, codes, drawn, 0.0),
      drawn)


class TonePredictor:
  """A stand-in decoder that predicts a 440 Hz tone of amplitude 0.5: each
  sample's logits are a bump of `spread` classes around the tone's class at
  that sample, whatever the input. It reads the time from the code, whose
  first channel holds each frame's index."""

  def __init__(self, config, spread):
    self.config = config
    self.spread = spread

  def __call__(self, inputs, code):
    start = code[0, 0, 0] * self.config.hop_length
    times = start + tf.range(tf.shape(inputs)[1], dtype=tf.float32)
    centre = dsp.to_class(dsp.mu_law_encode(tone(times)))
    distance = (tf.range(256, dtype=tf.float32)[tf.newaxis]
                - tf.cast(centre, tf.float32)[:, tf.newaxis]) / self.spread
    return (-0.5 * distance**2)[tf.newaxis]


def tone(times):
  return 0.5 * tf.sin(2 * np.pi * 440 * tf.cast(times, tf.float32) / 16000)


def test_the_mean_takes_the_draws_noise_out(tiny_model, monkeypatch):
  """Audio drawn from a predictor of a tone with 4 classes of spread: the
  draws carry noise within 25 dB of the tone, their means, taken in windows
  of 256 samples, at least 10 dB less."""
  config = tiny_model.config
  samples = 900
  frames = -(-samples // config.hop_length)
  codes = np.zeros([1, frames, config.code_width], np.float32)
  codes[0, :, 0] = np.arange(frames)
  predictor = TonePredictor(config, 4.0)
  logits = predictor(np.zeros([1, samples]), codes)[0].numpy()
  gumbel = -np.log(-np.log(np.random.default_rng(0).uniform(
      size=logits.shape)))
  drawn = dsp.mu_law_decode(dsp.from_class(np.argmax(
      logits + gumbel, -1))).numpy()[None]
  monkeypatch.setattr(expectation, 'WINDOW_SAMPLES', 256)
  means = expectation.expected_audio(predictor, codes, drawn)
  clean = tone(np.arange(samples)).numpy()[None]

  def noise_db(audio):
    return 10 * np.log10(np.mean((audio - clean)**2) / np.mean(clean**2))

  assert noise_db(drawn) > -25
  assert noise_db(means) < noise_db(drawn) - 10


@pytest.mark.parametrize('runtime', ['xla', 'numba'])
def test_generation_returns_the_means_of_its_draws(tiny_model, runtime):
  """`expected_value`: the loop's means are those of the very draws it
  made, in both float32 runtimes; zero past each row's length; the draws
  themselves at temperature 0; a run resumed from its partial draws returns
  what the whole run does."""
  _, codes = random_inputs(tiny_model.config, 2, 320, seed=3)
  synthesize = functools.partial(
      generation.synthesize, tiny_model, codes, runtime=runtime, seed=5,
      lengths=[320, 200], chunk_size=64)
  drawn = synthesize(temperature=0.9)
  means = synthesize(temperature=0.9, expected_value=True)
  expected = expectation.expected_audio(tiny_model.decoder, codes, drawn,
                                        0.9)
  expected[1, 200:] = 0.0
  np.testing.assert_allclose(means, expected, atol=1e-6)
  assert np.all(means[1, 200:] == 0) and not np.array_equal(means, drawn)
  resumed = synthesize(temperature=0.9, prime=drawn[:, :150],
                       expected_value=True)
  np.testing.assert_allclose(resumed, means, atol=1e-6)
  np.testing.assert_array_equal(
      synthesize(temperature=0.0, expected_value=True),
      synthesize(temperature=0.0))


@pytest.mark.parametrize('weights, runtime', [('int8', 'numba'),
                                              ('float16', 'litert')])
def test_approximate_weights_give_the_means_of_their_own_logits(
    tiny_model, weights, runtime):
  """With 16- or 8-bit weights the means are those of the distributions
  the loop drew from, its own logits (teacher-forced over its draws)."""
  _, codes = random_inputs(tiny_model.config, 2, 256, seed=6)
  synthesize = functools.partial(generation.synthesize, tiny_model, codes,
                                 weights=weights, runtime=runtime, seed=2)
  drawn = synthesize()
  logits = generation.incremental_logits(tiny_model, drawn, codes,
                                         weights=weights, runtime=runtime)
  np.testing.assert_allclose(
      synthesize(expected_value=True),
      tf.linalg.matvec(tf.nn.softmax(logits), feedback_tables()[0]),
      atol=1e-6)


def test_a_litert_decoder_alone_has_no_means_of_a_prime(tiny_model):
  decoder = mw.synthesis.litert.LiteRTDecoder.from_decoder(
      tiny_model.decoder, 'int8')
  _, codes = random_inputs(tiny_model.config, 1, 128, seed=4)
  alone = mw.Synthesizer(decoder)
  means = alone.generate(codes, seed=1, expected_value=True)
  np.testing.assert_array_equal(means, generation.synthesize(
      tiny_model, codes, seed=1, weights='int8', runtime='litert',
      expected_value=True))
  with pytest.raises(mw.ConfigError, match='LiteRT decoder alone'):
    alone.generate(codes, seed=1, prime=means[:, :64], expected_value=True)
