"""The PyTorch recipe's glue: NSynth TFRecords -> its inputs -> a model folder.

Only the TensorFlow / numpy side, for both recipe presets: train_torch_gpu.py
itself needs PyTorch (tools/README.md says how its maths was checked against
these files on the CPU).
"""

import json
import pathlib
import sys

from conftest import randomize
import keras
import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet import data
from magenta_wavenet.data import schema
from magenta_wavenet.model import checkpoint
from magenta_wavenet.model.checkpoint import variable_table
from magenta_wavenet.model.checkpoint import write_config
from magenta_wavenet.sound import dsp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
# pylint: disable=wrong-import-position
from tools.recipe import convert
from tools.recipe import inputs_folder
from tools.recipe import prepare_inputs

NUM_SAMPLES = 30000
NAMES = ['keyboard_acoustic_000-040-100', 'guitar_acoustic_024-052-075',
         'flute_acoustic_073-064-127']
PITCHES = [40, 52, 64]  # the MIDI pitches in NAMES
PLAIN, PITCHED = prepare_inputs.RECIPE_PRESETS


def note_audio(index):
  """A decaying tone of its own pitch per note, float32 [64000]."""
  time = np.arange(schema.NOTE_SAMPLES) / schema.SAMPLE_RATE
  return (0.8 * np.exp(-time) * np.sin(2 * np.pi * 110 * (index + 1) * time)
          ).astype(np.float32)


@pytest.fixture(scope='module')
def records(tmp_path_factory):
  """Three notes in two TFRecord files (plain and GZIP), and their audio."""
  folder = tmp_path_factory.mktemp('records')
  audio = np.stack([note_audio(index) for index in range(len(NAMES))])
  examples = [data.make_example(audio[index], data.parse_note_name(name))
              for index, name in enumerate(NAMES)]
  data.write_examples(str(folder / 'nsynth-train-00000-of-00002'),
                      examples[:2])
  data.write_examples(str(folder / 'nsynth-train-00001-of-00002'),
                      examples[2:], 'GZIP')
  return str(folder / 'nsynth-train-*'), audio


@pytest.fixture(scope='module', params=prepare_inputs.RECIPE_PRESETS)
def prepared(request, records, tmp_path_factory):
  """prepare_inputs' folder for each recipe preset, the audio and preset."""
  pattern, audio = records
  folder = tmp_path_factory.mktemp('recipe') / 'inputs'
  assert prepare_inputs.main([
      'prepare_inputs', '--train_path', pattern, '--output_dir', str(folder),
      '--num_samples', str(NUM_SAMPLES), '--seed', '3', '--config',
      request.param]) == 0
  return folder, audio, request.param


def seeded_model(seed, preset):
  keras.utils.set_random_seed(seed)
  return mw.NSynthAutoencoder(preset)


def test_data_is_the_records_audio_as_mu_law_classes(prepared):
  folder, audio, _ = prepared
  classes = inputs_folder.read_classes(folder / inputs_folder.CLASSES_FILE)
  assert classes.dtype == np.uint8 and classes.shape == (3, NUM_SAMPLES)
  start = audio[:, :NUM_SAMPLES]
  np.testing.assert_array_equal(
      classes, dsp.to_class(dsp.mu_law_encode(start)).numpy())
  decoded = dsp.mu_law_decode(classes.astype(np.int32) - 128).numpy()
  # An 8-bit mu-law step is at most 256^(1/128) - 1 = 4.4% of the value.
  assert np.all(np.abs(decoded - start) <= 0.045 * np.abs(start) + 1e-4)
  notes = (folder / inputs_folder.NOTES_FILE).read_text().splitlines()
  assert notes == NAMES


def test_pitch_is_each_notes_midi_pitch(prepared):
  folder, _, _ = prepared
  pitch = np.load(folder / inputs_folder.PITCH_FILE)
  assert pitch.dtype == np.int16
  np.testing.assert_array_equal(pitch, PITCHES)


def test_config_json_is_the_preset(prepared):
  folder, _, preset = prepared
  with open(folder / prepare_inputs.CONFIG_FILE) as handle:
    config = mw.WaveNetConfig.from_dict(json.load(handle))
  assert config == mw.get_config(preset)
  assert config.pitch_classes == (128 if preset == PITCHED else 0)


def test_init_is_the_seeded_keras_model_by_checkpoint_name(prepared):
  folder, _, preset = prepared
  model = seeded_model(3, preset)
  with np.load(folder / inputs_folder.INIT_FILE) as init:
    table = variable_table(model)
    assert sorted(init.files) == sorted(table)
    for name, (variable, _) in table.items():
      np.testing.assert_array_equal(init[name], variable.numpy(), name)
    # The cond_map layers read the 16 code channels (+ 128 one-hot pitch).
    width = 16 + (128 if preset == PITCHED else 0)
    assert init['cond_map_out1/W'].shape == (1, width, 64)
    assert init['cond_map_7/W'].shape == (1, width, 128)


def test_expect_holds_the_models_logits_of_the_probe_crops(prepared):
  folder, audio, preset = prepared
  model = seeded_model(3, preset)
  start, stop = inputs_folder.PROBE_START, (
      inputs_folder.PROBE_START + inputs_folder.PROBE_LENGTH)
  pitch = np.array(PITCHES[:2]) if preset == PITCHED else None
  with np.load(folder / inputs_folder.EXPECT_FILE) as expect:
    np.testing.assert_array_equal(
        expect['classes'],
        inputs_folder.read_classes(folder / inputs_folder.CLASSES_FILE)[
            :inputs_folder.PROBE_NOTES, start:stop])
    np.testing.assert_array_equal(expect['pitch'], PITCHES[:2])
    crops = audio[:2, start:stop]
    logits = model.decoder_logits(crops, model.encode(crops, pitch)).numpy()
    assert expect['logits'].shape == (2, inputs_folder.PROBE_LENGTH, 256)
    np.testing.assert_allclose(expect['logits'], logits, atol=1e-5)
    if preset == PITCHED:  # the probe depends on the pitch it was made at
      other = model.decoder_logits(crops, model.encode(crops, pitch + 1))
      assert np.abs(expect['logits'] - other.numpy()).max() > 1e-2


@pytest.mark.parametrize('prepared', [PITCHED], indirect=True)
def test_a_pitched_models_logits_need_the_pitch(prepared):
  folder, _, preset = prepared
  with np.load(folder / inputs_folder.EXPECT_FILE) as expect:
    with pytest.raises(mw.MagentaWavenetError, match='pitch-conditioned'):
      prepare_inputs.keras_logits(seeded_model(3, preset), expect['classes'])


def test_too_short_notes_and_other_presets_are_usage_errors(records,
                                                            tmp_path):
  pattern, _ = records
  for flag in (['--num_samples', '6144'], ['--config', 'h512_bo16']):
    assert prepare_inputs.main([
        'prepare_inputs', '--train_path', pattern, '--output_dir',
        str(tmp_path / 'out')] + flag) == 2
  assert not (tmp_path / 'out').exists()


@pytest.fixture
def recipe_output(prepared, tmp_path):
  """What train_torch_gpu.py writes: ema.npz, config.json and probe.npz."""
  folder, _, preset = prepared
  model = randomize(mw.NSynthAutoencoder(preset), seed=5)
  np.savez(tmp_path / 'ema.npz',
           **checkpoint.keras_layout_weights(model))
  write_config(model.config, tmp_path)
  with np.load(folder / inputs_folder.EXPECT_FILE) as expect:
    classes, pitch = expect['classes'], expect['pitch']
  np.savez(tmp_path / 'probe.npz', classes=classes, pitch=pitch,
           logits=prepare_inputs.keras_logits(model, classes, pitch))
  return tmp_path, model, classes, pitch


def run_convert(folder, *extra):
  return convert.main([
      'convert', '--weights', str(folder / 'ema.npz'), '--probe',
      str(folder / 'probe.npz'), '--save_path', str(folder / 'model'),
      *extra])


def test_convert_writes_the_recipes_weights(recipe_output):
  folder, model, classes, pitch = recipe_output
  assert run_convert(folder) == 0
  loaded = mw.load_model(folder / 'model')
  assert loaded.config == model.config
  for expected, got in zip(model.weights, loaded.weights):
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
  with np.load(folder / 'probe.npz') as probe:
    np.testing.assert_array_equal(
        prepare_inputs.keras_logits(loaded, classes, pitch), probe['logits'])


def test_convert_refuses_weights_that_miss_the_probe(recipe_output):
  folder, model, classes, pitch = recipe_output
  logits = prepare_inputs.keras_logits(model, classes, pitch)
  logits[1, 100, 7] += 0.5
  np.savez(folder / 'probe.npz', classes=classes, pitch=pitch,
           logits=logits)
  assert run_convert(folder) == 1
  assert not (folder / 'model').exists()


@pytest.mark.parametrize('prepared', [PITCHED], indirect=True)
def test_convert_checks_the_probe_at_its_pitch(recipe_output):
  folder, model, classes, pitch = recipe_output
  np.savez(folder / 'probe.npz', classes=classes, pitch=pitch + 1,
           logits=prepare_inputs.keras_logits(model, classes, pitch))
  assert run_convert(folder) == 1
  assert not (folder / 'model').exists()


def test_convert_needs_a_config(recipe_output):
  folder, model, _, _ = recipe_output
  (folder / prepare_inputs.CONFIG_FILE).unlink()
  assert run_convert(folder) == 1
  assert not (folder / 'model').exists()
  assert run_convert(folder, '--config', model.config.name) == 0
  assert mw.load_model(folder / 'model').config == model.config


def test_convert_names_missing_and_misshaped_weights(recipe_output):
  folder, model, _, _ = recipe_output
  arrays = checkpoint.keras_layout_weights(model)
  del arrays['logits/biases']
  arrays['startconv/W'] = arrays['startconv/W'][:2]
  with pytest.raises(mw.CheckpointError, match=r'missing logits/biases.*'
                     r'startconv/W has shape \[2, 1, 64\]'):
    convert.assign_weights(mw.NSynthAutoencoder(model.config), arrays)


def test_one_presets_weights_do_not_fit_the_other(recipe_output):
  _, model, _, _ = recipe_output
  other = PLAIN if model.config.name == PITCHED else PITCHED
  with pytest.raises(mw.CheckpointError, match=r'cond_map_1/W has shape'):
    convert.assign_weights(mw.NSynthAutoencoder(other),
                           checkpoint.keras_layout_weights(model))


def test_a_warm_start_keeps_the_trained_models_logits_at_every_pitch(
    records, tmp_path):
  pattern, audio = records
  trained = randomize(mw.NSynthAutoencoder(PLAIN), seed=7)
  mw.save_model(trained, str(tmp_path / 'trained'))
  folder = tmp_path / 'inputs'
  assert prepare_inputs.main([
      'prepare_inputs', '--train_path', pattern, '--output_dir', str(folder),
      '--num_samples', str(NUM_SAMPLES), '--config', PITCHED,
      '--warm_start', str(tmp_path / 'trained')]) == 0
  started = mw.NSynthAutoencoder(PITCHED)
  with np.load(folder / inputs_folder.INIT_FILE) as init:
    convert.assign_weights(started, dict(init))
    # The code's rows are the trained ones, the pitch's rows zero.
    kernel = init['cond_map_3/W']
    np.testing.assert_array_equal(
        kernel[:, :16],
        checkpoint.keras_layout_weights(trained)['cond_map_3/W'])
    assert not kernel[:, 16:].any()
  crops = audio[:2, :4096]
  expected = trained.decoder_logits(crops, trained.encode(crops)).numpy()
  for pitch in (40, 90):
    code = started.encode(crops, np.array([pitch, pitch]))
    np.testing.assert_allclose(started.decoder_logits(crops, code).numpy(),
                               expected, rtol=1e-5, atol=1e-4)


def test_a_warm_start_needs_the_same_network():
  other = mw.NSynthAutoencoder(mw.get_config(PLAIN).replace(
      decoder_width=32))
  with pytest.raises(mw.MagentaWavenetError,
                     match=r'startconv/W: the trained model has shape '
                     r'\(3, 1, 32\), not \(3, 1, 64\)'):
    checkpoint.warm_start_weights(mw.NSynthAutoencoder(PITCHED), other)


def test_mu_law_tables_are_the_packages_mu_law(prepared):
  folder, _, _ = prepared
  with np.load(folder / inputs_folder.MU_LAW_FILE) as tables:
    audio, bounds = tables['audio'], tables['bounds']
  classes = np.arange(256)
  np.testing.assert_array_equal(
      audio, dsp.mu_law_decode(classes - 128).numpy())
  assert np.all(np.diff(bounds) > 0)
  floats = np.concatenate([
      np.random.default_rng(0).uniform(-1.1, 1.1, 200000), audio, [0.0, 1.0,
                                                                   -1.0]
  ]).astype(np.float32)
  np.testing.assert_array_equal(
      np.searchsorted(bounds, floats, side='right'),
      dsp.to_class(dsp.mu_law_encode(floats)).numpy())
  # Each bound is where the class changes: the float below is one class
  # lower (but at the float32 logarithm's one non-monotone step).
  below = np.nextafter(bounds, np.float32(-np.inf))
  changes = (dsp.to_class(dsp.mu_law_encode(bounds)).numpy() -
             dsp.to_class(dsp.mu_law_encode(below)).numpy())
  assert np.sum(changes == 1) >= 254 and np.all(changes >= 0)


def shifted(tone_hz, semitones, length=6144, hop=512):
  """A sine at tone_hz read through shift_reads, and its peak frequency."""
  first, weights, reach = inputs_folder.shift_reads(semitones, length, hop)
  source = np.sin(2 * np.pi * tone_hz / schema.SAMPLE_RATE *
                  np.arange(reach))
  played = (source[first[:, None] + np.arange(weights.shape[1])] *
            weights).sum(axis=1)
  spectrum = np.abs(np.fft.rfft(played * np.hanning(length), 16 * length))
  return played, np.argmax(spectrum) * schema.SAMPLE_RATE / (16 * length)


@pytest.mark.parametrize('semitones', [-12, -7, -1, 1, 5, 12])
def test_a_shifted_crop_plays_the_tone_at_the_shifted_pitch(semitones):
  played, peak = shifted(440.0, semitones)
  assert peak == pytest.approx(440.0 * 2 ** (semitones / 12), rel=2e-3)
  assert np.abs(played).max() == pytest.approx(1.0, abs=1e-3)


def test_an_unshifted_crop_is_its_source_and_a_shift_up_does_not_alias():
  first, weights, _ = inputs_folder.shift_reads(0, 6144, 512)
  taps = inputs_folder.SHIFT_TAPS
  np.testing.assert_array_equal(first + taps // 2 - 1, 512 + np.arange(6144))
  np.testing.assert_allclose(weights[:, taps // 2 - 1], 1.0, atol=1e-6)
  # 6 kHz played an octave up is 12 kHz, above the 8 kHz Nyquist: filtered
  # out, where reading every other sample would fold it to 4 kHz.
  played, _ = shifted(6000.0, 12)
  assert np.sqrt(np.mean(played ** 2)) < 1e-3
  unfiltered, _ = shifted(6000.0, 0)
  assert np.sqrt(np.mean(unfiltered[::2] ** 2)) > 0.5


def test_shift_tables_cover_every_read_and_code_frame():
  hop, crop, size = 512, 6144, 12
  tables = inputs_folder.shift_tables(size, crop, hop)
  source = int(tables['source'])
  assert source % hop == 0
  assert tables['weights'].shape == (2 * size + 1, crop,
                                     inputs_folder.SHIFT_TAPS)
  assert tables['first'].min() >= 0
  assert tables['first'].max() + inputs_folder.SHIFT_TAPS <= source
  assert tables['lower'].min() >= 0
  assert tables['lower'].max() + 1 < source // hop
  # Unshifted, frame f of the crop is source frame f + 1 (it starts one hop
  # in); an octave up it moves two source frames a frame, down a half.
  np.testing.assert_array_equal(tables['lower'][size], np.arange(1, 13))
  assert not tables['fraction'][size].any()
  for semitones, step in ((12, 2.0), (-12, 0.5)):
    position = (tables['lower'][size + semitones] +
                tables['fraction'][size + semitones])
    np.testing.assert_allclose(np.diff(position), step, rtol=1e-6)
