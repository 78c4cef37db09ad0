"""The PyTorch recipe's glue: NSynth TFRecords -> its inputs -> a model folder.

Only the TensorFlow / numpy side: train_torch_gpu.py itself needs PyTorch
and a GPU.
"""

import pathlib
import sys

import keras
import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet import data
from magenta_wavenet import dsp
from magenta_wavenet.checkpoint import variable_table
from magenta_wavenet.data import schema

from conftest import randomize

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
# pylint: disable=wrong-import-position
from tools.recipe import convert
from tools.recipe import prepare_inputs

NUM_SAMPLES = 30000
NAMES = ['keyboard_acoustic_000-040-100', 'guitar_acoustic_024-052-075',
         'flute_acoustic_073-064-127']


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


@pytest.fixture(scope='module')
def prepared(records, tmp_path_factory):
  pattern, audio = records
  folder = tmp_path_factory.mktemp('recipe') / 'inputs'
  assert prepare_inputs.main([
      'prepare_inputs', '--train_path', pattern, '--output_dir', str(folder),
      '--num_samples', str(NUM_SAMPLES), '--seed', '3']) == 0
  return folder, audio


def seeded_model(seed):
  keras.utils.set_random_seed(seed)
  return mw.NSynthAutoencoder(prepare_inputs.PRESET)


def test_data_is_the_records_audio_as_mu_law_classes(prepared):
  folder, audio = prepared
  classes = np.load(folder / prepare_inputs.DATA_FILE)
  assert classes.dtype == np.uint8 and classes.shape == (3, NUM_SAMPLES)
  start = audio[:, :NUM_SAMPLES]
  np.testing.assert_array_equal(
      classes, dsp.to_class(dsp.mu_law_encode(start)).numpy())
  decoded = dsp.mu_law_decode(classes.astype(np.int32) - 128).numpy()
  # An 8-bit mu-law step is at most 256^(1/128) - 1 = 4.4% of the value.
  assert np.all(np.abs(decoded - start) <= 0.045 * np.abs(start) + 1e-4)
  notes = (folder / prepare_inputs.NOTES_FILE).read_text().splitlines()
  assert notes == NAMES


def test_init_is_the_seeded_keras_model_by_checkpoint_name(prepared):
  folder, _ = prepared
  model = seeded_model(3)
  with np.load(folder / prepare_inputs.INIT_FILE) as init:
    table = variable_table(model)
    assert sorted(init.files) == sorted(table)
    for name, (variable, _) in table.items():
      np.testing.assert_array_equal(init[name], variable.numpy(), name)


def test_expect_holds_the_models_logits_of_the_probe_crops(prepared):
  folder, audio = prepared
  model = seeded_model(3)
  start, stop = prepare_inputs.PROBE_START, (
      prepare_inputs.PROBE_START + prepare_inputs.PROBE_LENGTH)
  with np.load(folder / prepare_inputs.EXPECT_FILE) as expect:
    np.testing.assert_array_equal(
        expect['classes'], np.load(folder / prepare_inputs.DATA_FILE)[
            :prepare_inputs.PROBE_NOTES, start:stop])
    crops = audio[:2, start:stop]
    logits = model.decoder_logits(crops, model.encode(crops)).numpy()
    assert expect['logits'].shape == (2, prepare_inputs.PROBE_LENGTH, 256)
    np.testing.assert_allclose(expect['logits'], logits, atol=1e-5)


def test_too_short_notes_are_a_usage_error(records, tmp_path):
  pattern, _ = records
  assert prepare_inputs.main([
      'prepare_inputs', '--train_path', pattern, '--output_dir',
      str(tmp_path / 'out'), '--num_samples', '6144']) == 2
  assert not (tmp_path / 'out').exists()


@pytest.fixture
def recipe_output(prepared, tmp_path):
  """What train_torch_gpu.py writes: ema.npz and probe.npz, made here."""
  folder, _ = prepared
  model = randomize(mw.NSynthAutoencoder(prepare_inputs.PRESET), seed=5)
  np.savez(tmp_path / 'ema.npz',
           **prepare_inputs.keras_layout_weights(model))
  with np.load(folder / prepare_inputs.EXPECT_FILE) as expect:
    classes = expect['classes']
  np.savez(tmp_path / 'probe.npz', classes=classes,
           logits=prepare_inputs.keras_logits(model, classes))
  return tmp_path, model, classes


def test_convert_writes_the_recipes_weights(recipe_output):
  folder, model, _ = recipe_output
  assert convert.main([
      'convert', '--weights', str(folder / 'ema.npz'), '--probe',
      str(folder / 'probe.npz'), '--save_path', str(folder / 'model')]) == 0
  loaded = mw.load_model(folder / 'model')
  assert loaded.config.name == prepare_inputs.PRESET
  for expected, got in zip(model.weights, loaded.weights):
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_convert_refuses_weights_that_miss_the_probe(recipe_output):
  folder, model, classes = recipe_output
  logits = prepare_inputs.keras_logits(model, classes)
  logits[1, 100, 7] += 0.5
  np.savez(folder / 'probe.npz', classes=classes, logits=logits)
  assert convert.main([
      'convert', '--weights', str(folder / 'ema.npz'), '--probe',
      str(folder / 'probe.npz'), '--save_path', str(folder / 'model')]) == 1
  assert not (folder / 'model').exists()


def test_convert_names_missing_and_misshaped_weights(recipe_output):
  folder, model, _ = recipe_output
  arrays = prepare_inputs.keras_layout_weights(model)
  del arrays['logits/biases']
  arrays['startconv/W'] = arrays['startconv/W'][:2]
  with pytest.raises(mw.CheckpointError, match=r'missing logits/biases.*'
                     r'startconv/W has shape \[2, 1, 64\]'):
    convert.assign_weights(mw.NSynthAutoencoder('h64_bo16'), arrays)
