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
    start = int(code[0, 0, 0]) * self.config.hop_length
    return tone_logits(start, inputs.shape[1], self.spread)


def tone(start, samples):
  times = np.arange(start, start + samples)
  return (0.5 * np.sin(2 * np.pi * 440 * times / 16000)).astype(np.float32)


def tone_logits(start, samples, spread):
  centre = dsp.to_class(dsp.mu_law_encode(tone(start, samples))).numpy()
  distance = (np.arange(256)[None] - centre[:, None]) / spread
  return tf.constant(-0.5 * distance[None]**2, tf.float32)


def test_the_mean_takes_the_draws_noise_out(tiny_model, monkeypatch):
  """Audio drawn from a predictor of a tone with 4 classes of spread: the
  draws carry noise within 25 dB of the tone, their means, taken in windows
  of 256 samples, at least 10 dB less."""
  config = tiny_model.config
  samples = 900
  logits = tone_logits(0, samples, 4.0)[0].numpy()
  gumbel = -np.log(-np.log(np.random.default_rng(0).uniform(
      size=logits.shape)))
  drawn = dsp.mu_law_decode(dsp.from_class(np.argmax(
      logits + gumbel, -1))).numpy()[None]
  frames = -(-samples // config.hop_length)
  codes = np.zeros([1, frames, config.bottleneck_width], np.float32)
  codes[0, :, 0] = np.arange(frames)
  monkeypatch.setattr(expectation, 'WINDOW_SAMPLES', 256)
  means = expectation.expected_audio(TonePredictor(config, 4.0), codes,
                                     drawn)
  clean = tone(0, samples)[None]

  def noise_db(audio):
    return 10 * np.log10(np.mean((audio - clean)**2) / np.mean(clean**2))

  assert noise_db(drawn) > -25
  assert noise_db(means) < noise_db(drawn) - 10


@pytest.mark.parametrize('runtime', ['xla', 'numba'])
def test_generation_returns_the_means_of_its_draws(tiny_model, runtime):
  """`expected_value`: the means of the very draws the loop made, in both
  float32 runtimes; zero past each row's length; a run resumed from its
  partial draws returns what the whole run does."""
  _, codes = random_inputs(tiny_model.config, 2, 320, seed=3)
  synthesize = functools.partial(
      generation.synthesize, tiny_model, codes, runtime=runtime, seed=5,
      temperature=0.9, lengths=[320, 200], chunk_size=64)
  drawn = synthesize()
  means = synthesize(expected_value=True)
  expected = expectation.expected_audio(tiny_model.decoder, codes, drawn,
                                        0.9)
  expected[1, 200:] = 0.0
  np.testing.assert_allclose(means, expected, atol=1e-6)
  assert np.all(means[1, 200:] == 0) and not np.array_equal(means, drawn)
  resumed = synthesize(prime=drawn[:, :150], expected_value=True)
  np.testing.assert_array_equal(resumed, means)


def test_a_litert_decoder_alone_has_no_means(tiny_model):
  decoder = mw.synthesis.litert.LiteRTDecoder.from_decoder(
      tiny_model.decoder, 'int8')
  _, codes = random_inputs(tiny_model.config, 1, 128, seed=4)
  with pytest.raises(mw.ConfigError, match='LiteRT decoder alone'):
    mw.Synthesizer(decoder).generate(codes, seed=1, expected_value=True)
