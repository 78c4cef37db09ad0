"""synthesize compiles its XLA loops once per model and shape, yet follows
the model's weights."""

import functools
import gc
import weakref

from conftest import randomize
import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet.synthesis import generation


@pytest.fixture
def traces(monkeypatch):
  """Weak references to the `Synthesizer` of each trace of its loops, by
  loop ('sample' or 'forced'): a traced body runs its Python once."""
  seen = {'sample': [], 'forced': []}
  for loop, name in (('sample', '_sample_loop'), ('forced', '_forced_loop')):
    original = getattr(generation.Synthesizer, name)

    @functools.wraps(original)
    def counting(self, *args, loop=loop, original=original):
      seen[loop].append(weakref.ref(self))
      return original(self, *args)
    monkeypatch.setattr(generation.Synthesizer, name, counting)
  return seen


def code_of(model, batch, frames, seed=0):
  return np.random.default_rng(seed).normal(
      size=(batch, frames, model.config.bottleneck_width)).astype(np.float32)


def test_same_shapes_trace_once_new_shapes_trace_again(tiny_model, traces):
  code = code_of(tiny_model, 1, 3)
  synthesize = functools.partial(generation.synthesize, tiny_model,
                                 chunk_size=64, runtime='xla')
  first = synthesize(code, seed=1)
  again = synthesize(code, seed=1)
  np.testing.assert_array_equal(first, again)
  assert len(traces['sample']) == 1
  synthesize(code_of(tiny_model, 2, 3))
  assert len(traces['sample']) == 2  # another batch size
  synthesize(code_of(tiny_model, 1, 4))
  assert len(traces['sample']) == 3  # another number of frames
  synthesize(code_of(tiny_model, 2, 3, seed=1))
  assert len(traces['sample']) == 3
  audio = np.zeros((1, 150), np.float32)
  for _ in range(2):
    generation.incremental_logits(tiny_model, audio, code, runtime='xla',
                                  chunk_size=64)
  assert len(traces['forced']) == 1


def test_new_weights_are_used_without_tracing_again(tiny_model, traces):
  code = code_of(tiny_model, 2, 3)
  audio = np.random.default_rng(1).uniform(-.5, .5, (2, 150)).astype(
      np.float32)
  synthesize = functools.partial(generation.synthesize, codes=code,
                                 seed=4, runtime='xla')
  before = synthesize(tiny_model)
  generation.incremental_logits(tiny_model, audio, code, runtime='xla')
  other = randomize(mw.NSynthAutoencoder('tiny'), seed=5)
  tiny_model.set_weights(other.get_weights())
  after = synthesize(tiny_model)
  assert not np.array_equal(after, before)
  np.testing.assert_array_equal(after, synthesize(other))
  np.testing.assert_array_equal(
      generation.incremental_logits(tiny_model, audio, code, runtime='xla'),
      generation.incremental_logits(other, audio, code, runtime='xla'))
  # tiny_model's loops were traced once each; the rest are other's.
  for loop in ('sample', 'forced'):
    assert len(traces[loop]) == 2 and traces[loop][0]() is not None


def test_a_deleted_models_synthesizer_is_released(traces):
  model = randomize(mw.NSynthAutoencoder('tiny'))
  generation.synthesize(model, code_of(model, 1, 2), chunk_size=64,
                        runtime='xla')
  model_ref, synthesizer_ref = weakref.ref(model), traces['sample'][0]
  assert synthesizer_ref() is not None
  del model
  # Two passes: the first frees the model and drops its cache entry, the
  # second the synthesizer's own reference cycles.
  gc.collect()
  gc.collect()
  assert model_ref() is None and synthesizer_ref() is None
