"""Fast generation: equal to teacher forcing, seeded, resumable, in both
float32 runtimes (the XLA loop and the Numba loop)."""

import functools

from conftest import randomize
import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet.synthesis import generation


def softmax_gap(model, audio, code, **kwargs):
  full = tf.nn.softmax(model.decoder_logits(audio, code)).numpy()
  fast = tf.nn.softmax(generation.incremental_logits(
      model, audio, code, **kwargs)).numpy()
  assert fast.shape == full.shape
  return np.abs(full - fast).max()


@pytest.fixture(params=['xla', 'numba'])
def runtime(request):
  return request.param


def random_inputs(config, batch, samples, seed=0):
  rng = np.random.default_rng(seed)
  frames = -(-samples // config.hop_length)
  audio = rng.uniform(-.8, .8, (batch, samples)).astype(np.float32)
  code = rng.normal(size=(batch, frames, config.bottleneck_width)).astype(
      np.float32)
  return audio, code


def test_tiny_equals_teacher_forcing_across_chunks_and_frames(tiny_model,
                                                              runtime):
  audio, code = random_inputs(tiny_model.config, 2, 700)  # 11 frames
  assert softmax_gap(tiny_model, audio, code, chunk_size=128,
                     runtime=runtime) <= 1e-5


def test_small_preset_equals_teacher_forcing(runtime):
  model = randomize(mw.NSynthAutoencoder('h64_bo16'))
  audio, code = random_inputs(model.config, 2, 2100, seed=1)
  assert softmax_gap(model, audio, code, runtime=runtime) <= 1e-5


def test_full_size_equals_teacher_forcing():
  """h512_bo16, random weights, 2,100 steps over 5 code frames."""
  model = randomize(mw.NSynthAutoencoder('h512_bo16'), bias_scale=0.05)
  audio, code = random_inputs(model.config, 1, 2100, seed=2)
  assert softmax_gap(model, audio, code, chunk_size=1024) <= 1e-4


def test_greedy_output_is_the_full_models_argmax(tiny_model, runtime):
  """At temperature 0 each sample is the argmax of the teacher-forced pass
  over the generated audio itself."""
  _, code = random_inputs(tiny_model.config, 2, 320, seed=4)
  audio = generation.synthesize(tiny_model, code, runtime=runtime,
                                temperature=0.0, chunk_size=100)
  logits = tiny_model.decoder_logits(audio, code).numpy()
  classes = mw.sound.dsp.to_class(mw.sound.dsp.mu_law_encode(audio)).numpy()
  np.testing.assert_array_equal(logits.argmax(-1), classes)


def test_seed_replays_and_chunking_does_not_matter(tiny_model, runtime):
  _, code = random_inputs(tiny_model.config, 2, 256, seed=5)
  synthesize = functools.partial(generation.synthesize, tiny_model, code,
                                 runtime=runtime)
  first = synthesize(seed=7, chunk_size=64)
  again = synthesize(seed=7, chunk_size=100)
  other = synthesize(seed=8, chunk_size=64)
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first, other)
  assert first.dtype == np.float32 and np.abs(first).max() <= 1.0


def test_prime_resumes_an_interrupted_run(tiny_model, runtime):
  """Continuing from a partial output with the same seed gives the same
  audio as the uninterrupted run."""
  _, code = random_inputs(tiny_model.config, 2, 320, seed=6)
  synthesize = functools.partial(generation.synthesize, tiny_model, code,
                                 runtime=runtime, seed=11, chunk_size=64)
  whole = synthesize()
  resumed = synthesize(prime=whole[:, :150])
  np.testing.assert_array_equal(resumed, whole)


def test_lengths_progress_and_partial_output(tiny_model):
  _, code = random_inputs(tiny_model.config, 2, 320, seed=7)
  seen, reports = [], []
  audio = generation.synthesize(
      tiny_model, code, lengths=[320, 130], chunk_size=64,
      progress=lambda done, total, rate: reports.append((done, total)),
      on_chunk=lambda so_far, done: seen.append((so_far.shape, done)))
  assert audio.shape == (2, 320)
  assert np.all(audio[1, 130:] == 0) and np.any(audio[1, :130] != 0)
  assert [done for _, done in seen] == [64, 128, 192, 256, 320]
  assert seen[0][0] == (2, 64)
  assert reports[-1] == (320, 320)


def test_batch_size_splits_the_work(tiny_model, runtime):
  _, code = random_inputs(tiny_model.config, 3, 128, seed=8)
  synthesize = functools.partial(generation.synthesize, tiny_model, code,
                                 runtime=runtime, temperature=0)
  together = synthesize()
  apart = synthesize(batch_size=2)
  np.testing.assert_array_equal(together, apart)


def test_bad_arguments(tiny_model):
  with pytest.raises(mw.CodeError, match='expected shape'):
    generation.synthesize(tiny_model, np.zeros((1, 3, 16), np.float32))
  code = np.zeros((1, 2, 4), np.float32)
  with pytest.raises(ValueError, match='lengths must hold 1 values'):
    generation.synthesize(tiny_model, code, lengths=[500])
  with pytest.raises(ValueError, match='prime must be'):
    generation.synthesize(tiny_model, code, prime=np.zeros((1, 128)))
  with pytest.raises(ValueError, match='weights must be one of'):
    generation.synthesize(tiny_model, code, weights='bfloat16')
  with pytest.raises(ValueError, match='runtime must be one of'):
    generation.synthesize(tiny_model, code, runtime='cuda')
  with pytest.raises(ValueError, match='xla runtime runs float32 weights, '
                     'not int8'):
    generation.synthesize(tiny_model, code, weights='int8', runtime='xla')
