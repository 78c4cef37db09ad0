"""float16 and int8 weights (the LiteRT loop and the Numba loop):
close to float32, seeded, resumable, exported and reloaded."""

import functools

from conftest import randomize
import numpy as np
import pytest
import soundfile
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet import sample_pack
from magenta_wavenet.cli import export
from magenta_wavenet.cli import generate
from magenta_wavenet.cli import mix
from magenta_wavenet.model import pretrained
from magenta_wavenet.model.autoencoder import cross_entropy
from magenta_wavenet.synthesis import generation
from magenta_wavenet.synthesis import litert

# Largest softmax difference from the float32 teacher-forced pass allowed
# on random weights (the tiny preset); the README gives the measured ones.
SOFTMAX_BOUNDS = {'float16': 1e-3, 'int8': 2e-2}
# (weights, runtime) of every approximate format.
APPROXIMATE = [('float16', 'litert'), ('float16', 'numba'), ('int8', 'litert'),
               ('int8', 'numba')]
INT8 = [('int8', 'litert'), ('int8', 'numba')]


def random_inputs(config, batch, samples, seed=0):
  rng = np.random.default_rng(seed)
  audio = rng.uniform(-.8, .8, (batch, samples)).astype(np.float32)
  code = rng.normal(size=(batch, -(-samples // config.hop_length),
                          config.bottleneck_width)).astype(np.float32)
  return audio, code


def softmax(logits):
  return tf.nn.softmax(logits).numpy()


@pytest.mark.parametrize('weights,runtime', APPROXIMATE)
def test_teacher_forcing_stays_close_to_float32(tiny_model, weights, runtime):
  audio, code = random_inputs(tiny_model.config, 2, 700)
  exact = softmax(tiny_model.decoder_logits(audio, code))
  approximate = softmax(generation.incremental_logits(
      tiny_model, audio, code, weights=weights, runtime=runtime,
      chunk_size=256))
  gap = np.abs(exact - approximate).max()
  assert 0 < gap <= SOFTMAX_BOUNDS[weights]


# On the default model and 4,096 samples of two bundled real notes: the
# largest and the mean softmax difference from float32, and the largest
# change of a note's NLL in bits (measured: see the README's Correctness).
REAL_NOTE_BOUNDS = {('float16', 'litert'): (0.005, 2e-5, 0.005),
                    ('float16', 'numba'): (0.005, 2e-5, 0.005),
                    ('int8', 'litert'): (0.1, 5e-4, 0.02),
                    ('int8', 'numba'): (0.05, 3e-4, 0.03)}


@pytest.fixture(scope='module')
def shipped_on_real_notes():
  """The default model's float32 softmax and NLL on two real notes."""
  model = pretrained.load_model(pretrained.DEFAULT_MODEL)
  audio = np.stack([mw.load_audio(mw.bundled_sound(name))[2048:2048 + 4096]
                    for name in ('nsynth_e5', 'nsynth_a1')])
  code = model.encode(audio)

  def scores(weights, runtime):
    logits = generation.incremental_logits(model, audio, code,
                                           weights=weights, runtime=runtime)
    return softmax(logits), np.mean(cross_entropy(logits, audio), 1) / np.log(2)
  return scores, scores('float32', 'xla')


@pytest.mark.parametrize('weights,runtime', APPROXIMATE)
def test_shipped_model_on_real_notes(shipped_on_real_notes, weights, runtime):
  scores, (exact, exact_bits) = shipped_on_real_notes
  approximate, bits = scores(weights, runtime)
  gaps = np.abs(approximate - exact)
  largest, mean, nll_change = REAL_NOTE_BOUNDS[weights, runtime]
  print(f'{weights} ({runtime}): largest softmax difference '
        f'{gaps.max():.3g}, mean {gaps.mean():.3g}, NLL change '
        f'{bits - exact_bits} bits')
  assert gaps.max() <= largest
  assert gaps.mean() <= mean
  assert np.abs(bits - exact_bits).max() <= nll_change


@pytest.mark.parametrize('weights,runtime', APPROXIMATE)
def test_seeded_and_resumable(tiny_model, weights, runtime):
  """The same seed replays whatever the chunk size; a run primed with the
  first 300 samples of a run goes on exactly as that run did (noise is
  keyed by position)."""
  _, code = random_inputs(tiny_model.config, 2, 640, seed=1)
  synthesize = functools.partial(generation.synthesize, tiny_model, code,
                                 weights=weights, runtime=runtime)
  run = synthesize(seed=7, chunk_size=128)
  np.testing.assert_array_equal(run, synthesize(seed=7, chunk_size=100))
  resumed = synthesize(seed=7, chunk_size=128, prime=run[:, :300])
  np.testing.assert_array_equal(resumed, run)
  assert not np.array_equal(synthesize(seed=8, chunk_size=128), run)


@pytest.mark.parametrize('weights,runtime', INT8)
def test_greedy_output_is_its_own_teacher_forced_argmax(tiny_model, weights,
                                                        runtime):
  _, code = random_inputs(tiny_model.config, 2, 320, seed=4)
  audio = generation.synthesize(tiny_model, code, temperature=0,
                                weights=weights, runtime=runtime,
                                chunk_size=100)
  logits = generation.incremental_logits(tiny_model, audio, code,
                                         weights=weights, runtime=runtime)
  classes = mw.sound.dsp.to_class(mw.sound.dsp.mu_law_encode(audio)).numpy()
  np.testing.assert_array_equal(np.argmax(logits, -1), classes)


@pytest.mark.parametrize('weights,runtime', INT8)
def test_new_weights_are_taken_again(tiny_model, weights, runtime):
  _, code = random_inputs(tiny_model.config, 1, 256, seed=2)
  synthesize = functools.partial(generation.synthesize, codes=code, seed=4,
                                 weights=weights, runtime=runtime)
  before = synthesize(tiny_model)
  other = randomize(mw.NSynthAutoencoder('tiny'), seed=5)
  tiny_model.set_weights(other.get_weights())
  after = synthesize(tiny_model)
  assert not np.array_equal(after, before)
  np.testing.assert_array_equal(after, synthesize(other))


def test_export_tflite_reloads_and_generates_the_same_audio(
    tiny_checkpoint, tmp_path, capsys):
  checkpoint, model = tiny_checkpoint
  folder = tmp_path / 'decoder'
  assert export.main(['export', f'--checkpoint_path={checkpoint}',
                      '--format=tflite', '--weights=int8',
                      f'--save_path={folder}']) == 0
  assert 'int8 weights' in capsys.readouterr().out
  decoder = litert.LiteRTDecoder.load(str(folder))
  assert decoder.weights == 'int8'
  assert decoder.config == model.config
  _, code = random_inputs(model.config, 2, 256, seed=6)
  reloaded = mw.Synthesizer(decoder).generate(code, seed=3)
  np.testing.assert_array_equal(
      reloaded, generation.synthesize(model, code, seed=3, weights='int8',
                                      runtime='litert'))


def test_export_errors_are_one_line(tiny_checkpoint, tmp_path, capsys):
  checkpoint, _ = tiny_checkpoint
  assert export.main(['export', f'--checkpoint_path={checkpoint}',
                      '--weights=int8', f'--save_path={tmp_path / "a"}']
                     ) == 1
  assert '--weights applies to --format=tflite' in capsys.readouterr().err
  with pytest.raises(mw.MagentaWavenetError, match='not a LiteRT export'):
    litert.LiteRTDecoder.load(str(tmp_path))


def test_an_export_of_an_earlier_version_is_named(tiny_checkpoint, tmp_path):
  checkpoint, _ = tiny_checkpoint
  folder = tmp_path / 'decoder'
  assert export.main(['export', f'--checkpoint_path={checkpoint}',
                      '--format=tflite', f'--save_path={folder}']) == 0
  step = tf.function(lambda x: {'skips': x * 2.0}, input_signature=[
      tf.TensorSpec([1, 4], tf.float32)])
  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [step.get_concrete_function()], step)
  (folder / litert.MODEL_FILE).write_bytes(converter.convert())
  with pytest.raises(mw.MagentaWavenetError,
                     match='earlier version .* no output_layers signature'):
    litert.LiteRTDecoder.load(str(folder))


def test_generate_and_mix_commands_take_weights(tiny_checkpoint, tmp_path):
  checkpoint, model = tiny_checkpoint
  code = random_inputs(model.config, 1, 192, seed=7)[1][0]
  np.save(tmp_path / 'c.npy', code)
  assert generate.main([
      'generate', f'--checkpoint_path={checkpoint}',
      f'--source_path={tmp_path / "c.npy"}', f'--save_path={tmp_path / "g"}',
      '--seed=2', '--weights=int8']) == 0
  saved, _ = soundfile.read(tmp_path / 'g' / 'gen_c.wav', dtype='float32')
  expected = generation.synthesize(model, code[np.newaxis], seed=2,
                                   weights='int8')[0]
  np.testing.assert_allclose(saved, expected, atol=1 / 32768)
  assert mix.main([
      'mix', f'--checkpoint_path={checkpoint}',
      f'--interpolate={tmp_path / "c.npy"},{tmp_path / "c.npy"}',
      '--steps=2', '--synthesize', '--seed=2', '--weights=float16',
      f'--save_path={tmp_path / "m"}']) == 0
  mixed, _ = soundfile.read(tmp_path / 'm' / 'interp_0.wav',
                            dtype='float32')
  both = np.stack([code, code])  # the 2 steps, synthesized as one batch
  np.testing.assert_allclose(
      mixed, generation.synthesize(model, both, seed=2, weights='float16')[0],
      atol=1 / 32768)


def test_a_pack_renders_with_int8_and_resumes_with_them(tmp_path,
                                                        tiny_checkpoint):
  _, model = tiny_checkpoint
  render = functools.partial(
      sample_pack.render_pack, model, ['nsynth_e5', 'nsynth_b4'],
      str(tmp_path), 2, [60], 256, seed=1, batch_size=1)
  manifest = render(decoder_weights='int8')
  assert manifest['model']['decoder_weights'] == 'int8'
  first = tmp_path / manifest['samples'][0]
  audio, _ = soundfile.read(first, dtype='float32')
  first.unlink()
  again = render()  # the pack's own weights
  assert again['model']['decoder_weights'] == 'int8'
  np.testing.assert_array_equal(soundfile.read(first, dtype='float32')[0],
                                audio)
  with pytest.raises(mw.MagentaWavenetError, match='another model'):
    render(decoder_weights='float32')
