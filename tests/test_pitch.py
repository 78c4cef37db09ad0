"""The pitch-conditioned preset: pitch as a code channel, pYIN, one-hots."""

from conftest import TINY_PITCH
from conftest import randomize
from conftest import tiny_pitch_model
from conftest import tone
import librosa
import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet.sound import pitch


@pytest.fixture
def pitch_model():
  return tiny_pitch_model()


def softmax(logits):
  return tf.nn.softmax(logits).numpy()


def test_preset_layout():
  config = mw.get_config('h64_bo16_pitch')
  assert config.code_width == 17 and config.conditioning_width == 144
  model = mw.NSynthAutoencoder(config)
  layers = model.conv_layers()
  assert tuple(layers['cond_map_7'].kernel.shape) == (1, 144, 128)
  assert tuple(layers['cond_map_out1'].kernel.shape) == (1, 144, 64)
  # Everything else has the unconditioned preset's shapes.
  plain = mw.NSynthAutoencoder('h64_bo16').conv_layers()
  for name, layer in layers.items():
    if not name.startswith('cond_map'):
      assert layer.kernel.shape == plain[name].kernel.shape, name
  with pytest.raises(mw.ConfigError, match='pitch_classes'):
    mw.get_config('tiny').replace(pitch_classes=12)


@pytest.mark.parametrize('frequency, midi', [(440.0, 69), (261.63, 60),
                                             (110.0, 45), (1318.5, 88)])
def test_note_pitch_by_pyin(frequency, midi):
  assert pitch.note_pitch(tone(8000, frequency=frequency)) == midi


def librosa_note_pitch(clip):
  """The median MIDI pitch of librosa's own pYIN track (`pitch.f0`), or the
  fallback: what `estimate_pitch` computes in TensorFlow ops."""
  frequency, voiced = pitch.f0(clip)
  if not np.any(voiced):
    return pitch.FALLBACK_PITCH
  return int(np.clip(np.round(pitch.hz_to_midi(np.median(frequency[voiced]))),
                     0, 127))


def test_estimate_pitch_in_tensorflow_is_librosa_pyin():
  # pYIN step by step: every trough of this low sawtooth stays above YIN's
  # usual threshold of 0.1, and only pYIN's decoding finds it voiced.
  time = np.arange(8000) / 16000
  saw = sum(np.sin(2 * np.pi * 32.7 * k * time) / k for k in range(1, 40))
  clips = np.stack([0.5 * saw / np.abs(saw).max(), tone(8000),
                    mw.load_audio(mw.bundled_sound('nsynth_a1'))[:8000],
                    np.zeros(8000)]).astype(np.float32)
  expected = [librosa_note_pitch(clip) for clip in clips]
  assert expected == [24, 69, 33, 60]
  estimated = pitch.estimate_pitch(clips)
  assert estimated.dtype == tf.float32
  np.testing.assert_array_equal(estimated, expected)
  assert [pitch.note_pitch(clip) for clip in clips] == expected


def test_fast_f0_is_librosas_track_frame_by_frame():
  time = np.arange(12000) / 16000
  vibrato = np.sin(2 * np.pi * (220 * time + 3 * np.sin(2 * np.pi * 5 * time)))
  clips = [tone(8000), vibrato.astype(np.float32),
           np.random.default_rng(0).normal(0, 0.1, 6000).astype(np.float32),
           mw.load_audio(mw.bundled_sound('nsynth_e5')),
           mw.load_audio(mw.bundled_sound('nsynth_a1'))[:16000], tone(600)]
  flags = []
  for clip in clips:
    frequency, voiced = pitch.f0(clip)
    fast_frequency, fast_voiced = pitch.fast_f0(clip)
    assert fast_voiced.dtype == bool
    np.testing.assert_array_equal(fast_voiced, voiced)
    np.testing.assert_allclose(fast_frequency, frequency, rtol=1e-9)
    flags.append(voiced)
  # Voiced frames and unvoiced ones (the noise, the tones' edges) both
  # agree.
  assert np.concatenate(flags).any() and not np.concatenate(flags).all()


def test_sound_without_voiced_frames_falls_back_to_middle_c(caplog):
  silence = np.zeros(8000, np.float32)
  assert pitch.note_pitch(silence, source='silence.wav') == 60
  assert 'silence.wav: no pitch found' in caplog.text


def test_soft_one_hot():
  np.testing.assert_array_equal(pitch.soft_one_hot(60.0, 128).numpy(),
                                np.eye(128)[60])
  blend = pitch.soft_one_hot([60.25, 127.0, 200.0, -3.0], 128).numpy()
  np.testing.assert_allclose(blend[0], 0.75 * np.eye(128)[60]
                             + 0.25 * np.eye(128)[61])
  np.testing.assert_array_equal(blend[1:], np.eye(128)[[127, 127, 0]])


def test_encode_appends_the_estimated_or_given_pitch(pitch_model):
  audio = np.stack([tone(1024, frequency=440.0), tone(1024, frequency=220.0)])
  code = pitch_model.encode(audio).numpy()
  assert code.shape == (2, 16, 5)
  np.testing.assert_array_equal(code[:, :, -1], [[69] * 16, [57] * 16])
  # The learned channels are the encoder's inference code (`infer`, which
  # tests/test_winograd.py holds to the Keras layers').
  learned = pitch_model.encoder.infer(pitch_model._network_input(audio)).numpy()  # pylint: disable=protected-access
  np.testing.assert_array_equal(code[..., :4], learned)
  given = pitch_model.encode(audio, pitch=[40, 41.5]).numpy()
  np.testing.assert_array_equal(given[:, 0, -1], [40, 41.5])
  with pytest.raises(mw.CodeError, match='pitch must be one MIDI'):
    pitch_model.encode(audio, pitch=[60, 61, 62])
  with pytest.raises(mw.CodeError, match='not pitch-conditioned'):
    mw.NSynthAutoencoder('tiny').encode(audio, pitch=60)


@pytest.mark.parametrize('semitones, midi', [(7, 64), (-12, 45), (3.5, 60),
                                             (0, 57)])
def test_shift_pitch_moves_a_tone_and_keeps_its_length(semitones, midi):
  audio = tone(8000, frequency=220.0)  # MIDI 57
  shifted = pitch.shift_pitch(audio, semitones)
  assert shifted.shape == audio.shape and shifted.dtype == np.float32
  assert pitch.note_pitch(shifted) == midi
  if semitones == 0:
    np.testing.assert_array_equal(shifted, audio)


def test_encode_shifted_encodes_the_sound_moved_to_each_pitch(pitch_model):
  audio = tone(4096, frequency=220.0)  # MIDI 57
  codes = mw.encode_shifted(pitch_model, audio, [57, 64, 45.5], batch_size=2)
  assert codes.shape == (3, 64, 5)
  np.testing.assert_array_equal(codes[:, :, -1],
                                np.repeat([[57], [64], [45.5]], 64, axis=1))
  for code, semitones in zip(codes, (0, 7, -11.5)):
    moved = audio if semitones == 0 else librosa.effects.pitch_shift(
        audio, sr=16000, n_steps=semitones)
    np.testing.assert_allclose(code[:, :4],
                               pitch_model.encode(moved[None])[0, :, :4],
                               atol=1e-5)
  assert not np.allclose(codes[0, :, :4], codes[1, :, :4], atol=1e-3)
  # Its own pitch given: moved from there (here as if it were at 50).
  told = mw.encode_shifted(pitch_model, audio, [57], own_pitch=50)[0]
  np.testing.assert_allclose(told, codes[1] - [0, 0, 0, 0, 7], atol=1e-5)
  # A pitch no model takes is refused before any audio is moved.
  for bad in ([60, 128], [float('nan')], [-1]):
    with pytest.raises(mw.CodeError, match='pitch must be one MIDI'):
      mw.encode_shifted(pitch_model, audio, bad, own_pitch=57)
  # A model without pitch gets the moved sound's code alone.
  plain = mw.NSynthAutoencoder('tiny')
  moved = librosa.effects.pitch_shift(audio, sr=16000, n_steps=7)
  np.testing.assert_allclose(mw.encode_shifted(plain, audio, [64])[0],
                             plain.encode(moved[None])[0], atol=1e-5)


def test_the_pitch_changes_the_prediction_and_training_call_matches(
    pitch_model):
  audio = tone(1024, frequency=440.0)[None]
  at_69 = pitch_model.encode(audio, pitch=69)
  at_70 = pitch_model.encode(audio, pitch=70)
  logits_69 = pitch_model.decoder_logits(audio, at_69).numpy()
  assert np.abs(softmax(logits_69) - softmax(
      pitch_model.decoder_logits(audio, at_70))).max() > 1e-3
  np.testing.assert_allclose(pitch_model(audio, pitch=[69]).numpy(),
                             logits_69, atol=1e-5)
  nats = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=mw.sound.dsp.to_class(mw.sound.dsp.mu_law_encode(audio)),
      logits=logits_69)
  np.testing.assert_allclose(pitch_model.nll(audio, [69]).numpy(),
                             tf.reduce_mean(nats).numpy(), rtol=1e-5)
  with pytest.raises(mw.CodeError, match='pass the MIDI pitch'):
    pitch_model(audio)


def test_incremental_generation_equals_teacher_forcing(pitch_model):
  audio = tone(1024, frequency=330.0)[None]
  code = pitch_model.encode(audio, pitch=64.5)
  forced = softmax(pitch_model.decoder_logits(audio, code))
  incremental = softmax(mw.incremental_logits(pitch_model, audio, code))
  assert np.abs(forced - incremental).max() < 1e-5
  audio_out = mw.synthesize(pitch_model, code, seed=3)
  assert audio_out.shape == (1, 1024)


def test_save_load_and_inference_from_shapes(pitch_model, tmp_path):
  mw.save_model(pitch_model, tmp_path / 'm')
  loaded = mw.load_model(tmp_path / 'm')
  assert loaded.config == TINY_PITCH
  (tmp_path / 'm' / 'config.json').unlink()
  inferred = mw.load_model(tmp_path / 'm')
  assert inferred.config.pitch_classes == 128
  for got, want in zip(inferred.weights, pitch_model.weights):
    np.testing.assert_array_equal(got.numpy(), want.numpy())
  with pytest.raises(mw.CheckpointError, match='cond_map_1/W has shape'):
    mw.load_model(tmp_path / 'm', config='h64_bo16')


def test_encode_shifted_hears_a_quiet_sound_at_the_models_level():
  # Packs, the studio and the retry encode their moved sounds as every
  # command does: raised to the level of the notes the model trained on.
  model = randomize(mw.NSynthAutoencoder(
      TINY_PITCH.replace(input_peak=0.9)), seed=8)
  audio = tone(4096, frequency=220.0)  # peak 0.5
  loud, quiet = (mw.encode_shifted(model, clip, [64], own_pitch=57)[0]
                 for clip in (audio, audio / 16))
  np.testing.assert_allclose(quiet, loud, atol=1e-6)
  moved = librosa.effects.pitch_shift(audio / 16, sr=16000, n_steps=7)
  assert not np.allclose(quiet[:, :4], model.encode(moved[None])[0, :, :4],
                         atol=1e-2)
