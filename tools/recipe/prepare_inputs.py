r"""Prepares the inputs of `train_torch_gpu.py` from NSynth TFRecords.

The PyTorch recipe needs no TensorFlow; this writes everything it reads into
one folder (atomically):

* `classes.npy.xz`: uint8 [notes, samples], the mu-law classes (q + 128)
  of the first --num_samples samples of every note, in file order (sorted
  file names, then records), LZMA-compressed (`inputs_folder`: to about 43%
  for these renders, as a GPU call carries 64 MiB); `notes.txt` names the
  notes, one a line. The recipe trains on random 6,144-sample crops of
  these rows.
* `pitch.npy`: int16 [notes], each note's MIDI pitch (the records' `pitch`
  feature), which a pitch-conditioned preset hears beside the code.
* `config.json`: the `WaveNetConfig` of --config (`checkpoint.write_config`);
  the recipe reads the widths, layers, stages, hop and pitch classes from it.
* `init.npz`: the starting weights, those of `NSynthAutoencoder(--config)`
  built after `keras.utils.set_random_seed(--seed)`, keyed by checkpoint
  name ('dilatedconv_12/W', 'dilatedconv_12/biases') in the Keras layout:
  kernels [filter_length, in, out], biases [out]. With --warm_start, those
  of a trained model instead (`warm_start_weights`): e.g. the shipped
  `h64_bo16` as the start of `h64_bo16_pitch`, whose cond_map layers get
  the trained rows for the code and zeros for the pitch, so training starts
  from the trained model's very logits.
* `expect.npz`: 'classes' uint8 [2, 2048], the first two notes at the
  recipe's probe position (samples 20,000-22,047), 'pitch' int16 [2] their
  MIDI pitches, and 'logits' float32 [2, 2048, 256], this package's logits
  for them with the starting weights (at that pitch for a pitch-conditioned
  preset); the recipe stops if its PyTorch port disagrees.
* `mu_law.npz`: this package's 8-bit mu-law as two tables (`mu_law_tables`),
  with which the recipe's pitch augmentation turns classes into audio and
  its resampled audio back into classes.

Usage (from the repository root):

  python -m tools.recipe.prepare_inputs --train_path 'fluidr3/nsynth-train-*' \
      --output_dir output/recipe_inputs
  python -m tools.recipe.prepare_inputs --train_path 'fluidr3/nsynth-train-*' \
      --num_samples 44000 --config h64_bo16_pitch \
      --output_dir output/recipe_inputs_pitch  # first 2.75 s, pitch preset
"""

import os

from absl import flags
import keras
import numpy as np

from magenta_wavenet.cli import common
from magenta_wavenet.data import reader
from magenta_wavenet.data import schema
from magenta_wavenet.errors import DataError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import atomic_folder
from magenta_wavenet.model.autoencoder import NSynthAutoencoder
from magenta_wavenet.model.checkpoint import CONFIG_FILE
from magenta_wavenet.model.checkpoint import keras_layout_weights
from magenta_wavenet.model.checkpoint import warm_start_weights
from magenta_wavenet.model.checkpoint import write_config
from magenta_wavenet.model.pretrained import load_model
from magenta_wavenet.sound import dsp
from tools.recipe.inputs_folder import CLASSES_FILE
from tools.recipe.inputs_folder import EXPECT_FILE
from tools.recipe.inputs_folder import INIT_FILE
from tools.recipe.inputs_folder import MU_LAW_FILE
from tools.recipe.inputs_folder import NOTES_FILE
from tools.recipe.inputs_folder import PITCH_FILE
from tools.recipe.inputs_folder import PROBE_LENGTH
from tools.recipe.inputs_folder import PROBE_NOTES
from tools.recipe.inputs_folder import PROBE_START
from tools.recipe.inputs_folder import write_classes

# The networks train_torch_gpu.py is run with: their run state (weights,
# average, Adam moments) fits the 64 MiB a GPU call carries.
RECIPE_PRESETS = ('h64_bo16', 'h64_bo16_pitch')
RECIPE_CROP = 6144
_READ_BATCH = 64

FLAGS = common.new_flags()
flags.DEFINE_string('train_path', None, 'TFRecords of the training notes '
                    '(glob, comma-separated), from make_dataset.',
                    flag_values=FLAGS)
flags.DEFINE_string('output_dir', None, 'Folder written for the recipe.',
                    flag_values=FLAGS)
flags.DEFINE_enum('config', RECIPE_PRESETS[0], RECIPE_PRESETS,
                  'Preset the recipe trains.', flag_values=FLAGS)
flags.DEFINE_integer('num_samples', schema.NOTE_SAMPLES, 'Samples kept from '
                     'the start of each note.',
                     lower_bound=PROBE_START + PROBE_LENGTH,
                     upper_bound=schema.NOTE_SAMPLES, flag_values=FLAGS)
flags.DEFINE_integer('seed', 0, 'Keras seed of the starting weights.',
                     flag_values=FLAGS)
flags.DEFINE_string('warm_start', None, 'A trained model (name or path, as '
                    'load_model takes) whose weights start the run instead '
                    'of seeded ones; see warm_start_weights.',
                    flag_values=FLAGS)


def read_notes(file_pattern, num_samples):
  """Mu-law classes and MIDI pitch of the start of every note of TFRecords.

  Args:
    file_pattern: Glob pattern(s) of NSynth TFRecord files.
    num_samples: Samples kept from the start of each 64,000-sample note.

  Returns:
    (classes, pitches, names): uint8 [notes, num_samples] with values q + 128
    in [0, 255], int16 [notes] MIDI pitches, and the notes' `note_str`s, in
    file then record order.
  """
  dataset = reader.nsynth_dataset(file_pattern, _READ_BATCH, training=False,
                                  crop_length=schema.NOTE_SAMPLES,
                                  cycle_length=1)  # one file after another
  classes, pitches, names = [], [], []
  for batch in dataset:
    # Eager mu-law, as model(audio) computes it: inside tf.data's graph,
    # samples just below zero (-3e-10 < x < 0) come out one class lower.
    classes.append(dsp.to_class(dsp.mu_law_encode(
        batch['audio'][:, :num_samples])).numpy().astype(np.uint8))
    pitches.append(batch['pitch'].numpy().astype(np.int16))
    names += [name.decode('utf-8') for name in batch['note_str'].numpy()]
  if not names:
    raise DataError(f'{file_pattern}: the files hold no notes.')
  return np.concatenate(classes), np.concatenate(pitches), names


def mu_law_tables():
  """This package's mu-law as tables a script without TensorFlow can use.

  Returns:
    Dict of 'audio', float32 [256], `dsp.mu_law_decode` of each class
    (q + 128), and 'bounds', float32 [255]: bounds[k - 1] is the smallest
    float32 that `dsp.mu_law_encode` maps to class k or above, so the class
    of any float32 x is the number of bounds <= x (`np.searchsorted(bounds,
    x, side='right')`): `dsp.mu_law_encode(x) + 128`, but for a float32
    an ulp from a bound where the float32 logarithm is not monotone (one
    such float in 51 ulps each side of every bound: 0.9166785 encodes to
    class 254 below its bound of 0.91667855).
  """
  classes = np.arange(256)
  audio = dsp.mu_law_decode(dsp.from_class(classes)).numpy()
  wanted = classes[1:] - 128
  low = np.full(wanted.shape, -2.0, np.float32)  # encodes to -128
  high = np.full(wanted.shape, 2.0, np.float32)  # encodes to 127
  while True:  # bisection over float32 until high is the next float after low
    middle = ((low.astype(np.float64) + high) / 2).astype(np.float32)
    middle = np.where(middle == high, low, middle)
    split = middle != low
    if not split.any():
      break
    above = dsp.mu_law_encode(middle).numpy() >= wanted
    high = np.where(split & above, middle, high)
    low = np.where(split & ~above, middle, low)
  return {'audio': audio.astype(np.float32), 'bounds': high}


def keras_logits(model, classes, pitch=None):
  """This package's teacher-forced logits of mu-law classes.

  Args:
    model: An `NSynthAutoencoder`.
    classes: Integer [batch, samples] classes in [0, 255], samples a
      multiple of the hop.
    pitch: Integer [batch] MIDI pitches; used (and required) by a
      pitch-conditioned model only, as `model(audio, pitch)` uses them.

  Returns:
    float32 [batch, samples, 256], as `logits_of` in the recipe.

  Raises:
    CodeError: for a pitch-conditioned model without a pitch.
  """
  inputs = dsp.to_network_input(dsp.from_class(classes))
  return model.autoencode_input(inputs, pitch).numpy()


def prepare(train_path, output_dir, num_samples=schema.NOTE_SAMPLES, seed=0,
            config=RECIPE_PRESETS[0], warm_start=None):
  """Writes the recipe's inputs (see the module docstring) into `output_dir`.

  Args:
    train_path: Glob pattern(s) of NSynth TFRecord files.
    output_dir: Folder written (replaced if it exists).
    num_samples: Samples kept from the start of each note.
    seed: Keras seed of the starting weights.
    config: One of `RECIPE_PRESETS`.
    warm_start: Optional trained `NSynthAutoencoder` whose weights start the
      run (`warm_start_weights`), instead of the seeded ones.

  Returns:
    The shape of the classes, (notes, num_samples).
  """
  classes, pitches, names = read_notes(train_path, num_samples)
  if len(names) < PROBE_NOTES:
    raise DataError(f'{train_path}: the recipe needs at least {PROBE_NOTES} '
                    f'notes, found {len(names)}.')
  keras.utils.set_random_seed(seed)
  model = NSynthAutoencoder(config)
  if warm_start is not None:
    warm_start_weights(model, warm_start)
  probe = classes[:PROBE_NOTES, PROBE_START:PROBE_START + PROBE_LENGTH]
  probe_pitch = pitches[:PROBE_NOTES]

  def write(staging):
    write_classes(os.path.join(staging, CLASSES_FILE), classes)
    np.save(os.path.join(staging, PITCH_FILE), pitches)
    with open(os.path.join(staging, NOTES_FILE), 'w') as handle:
      handle.write(''.join(name + '\n' for name in names))
    write_config(model.config, staging)
    np.savez(os.path.join(staging, INIT_FILE), **keras_layout_weights(model))
    np.savez(os.path.join(staging, EXPECT_FILE), classes=probe,
             pitch=probe_pitch,
             logits=keras_logits(model, probe, probe_pitch))
    np.savez(os.path.join(staging, MU_LAW_FILE), **mu_law_tables())

  atomic_folder(output_dir, write)
  return classes.shape


def _body(flag_values):
  if not flag_values.train_path or not flag_values.output_dir:
    raise MagentaWavenetError('--train_path and --output_dir are required.')
  trained = (load_model(flag_values.warm_start) if flag_values.warm_start
             else None)
  shape = prepare(flag_values.train_path, flag_values.output_dir,
                  flag_values.num_samples, flag_values.seed,
                  flag_values.config, trained)
  start = (f'from {flag_values.warm_start}' if trained is not None
           else f'seed {flag_values.seed}')
  print(f'{flag_values.output_dir}: {CLASSES_FILE} {shape[0]} notes x '
        f'{shape[1]} samples, {PITCH_FILE}, {CONFIG_FILE} and {INIT_FILE} '
        f'({flag_values.config}, {start}), {EXPECT_FILE}, '
        f'{MU_LAW_FILE}.')


def main(argv=None):
  """Command-line entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
