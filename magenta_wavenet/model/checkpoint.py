"""Loading and saving models in the published checkpoint's layout.

The published NSynth checkpoint (`wavenet-ckpt/model.ckpt-200000`) is a TF1
`tf.train.Saver` checkpoint whose variables are named `<scope>/W` (shape
[1, filter_length, in, out]) and `<scope>/biases` with no outer scope, next to
`<scope>/W/ExponentialMovingAverage` copies, Adam slots and `global_step`.
This project saves its own models the same way (plus a `config.json`), so one
loader serves both. The trainer's object-based checkpoints (`ckpt-<step>`, see
`training_checkpoint`) load too, with the `config.json` it writes beside them.
"""

import glob
import json
import os
import re

import keras
import numpy as np
import tensorflow as tf

from magenta_wavenet.errors import CheckpointError
from magenta_wavenet.errors import ConfigError
from magenta_wavenet.files import atomic_folder
from magenta_wavenet.files import atomic_write
from magenta_wavenet.model.autoencoder import NSynthAutoencoder
from magenta_wavenet.model.config import PRESETS
from magenta_wavenet.model.config import WaveNetConfig
from magenta_wavenet.model.ema import WeightAverage

CONFIG_FILE = 'config.json'
WEIGHTS_PREFIX = 'model.ckpt'
EMA_SUFFIX = '/ExponentialMovingAverage'
OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH'
_DATA_SUFFIX = re.compile(r'\.(index|meta|data-\d{5}-of-\d{5})$')


def variable_table(model):
  """Maps each checkpoint name to (model variable, checkpoint shape).

  Returns:
    dict like {'dilatedconv_12/W': (kernel, (1, 3, 512, 1024)),
    'dilatedconv_12/biases': (bias, (1024,)), ...}.
  """
  table = {}
  for scope, layer in model.conv_layers().items():
    table[f'{scope}/W'] = (layer.kernel, (1,) + tuple(layer.kernel.shape))
    table[f'{scope}/biases'] = (layer.bias, tuple(layer.bias.shape))
  return table


def keras_layout_weights(model):
  """The model's weights by checkpoint name, in the Keras layout.

  Returns:
    dict like {'dilatedconv_12/W': float32 [3, 64, 128],
    'dilatedconv_12/biases': float32 [128], ...}.
  """
  return {name: variable.numpy()
          for name, (variable, _) in variable_table(model).items()}


def warm_start_weights(model, trained):
  """Sets `model`'s weights to those of `trained`, a model of the same network.

  The two may differ only in what the cond_map layers read: where `model`'s
  kernel has more input rows (the one-hot pitch that `h64_bo16_pitch`
  appends to the code), the trained rows come first and the others are
  zero, so `model` computes `trained`'s logits at every pitch.

  Args:
    model: The `NSynthAutoencoder` to start (changed in place).
    trained: A trained `NSynthAutoencoder`.

  Raises:
    ConfigError: if a weight is missing from `trained` or differs in
      another way.
  """
  start = keras_layout_weights(trained)
  for name, (variable, _) in variable_table(model).items():
    if name not in start:
      raise ConfigError(f'the trained model has no {name}.')
    value, shape = start[name], tuple(variable.shape)
    grown = (len(shape) == 3 and value.shape[0] == shape[0]
             and value.shape[2] == shape[2] and value.shape[1] < shape[1])
    if grown:
      value = np.concatenate([value, np.zeros(
          (shape[0], shape[1] - value.shape[1], shape[2]), value.dtype)], 1)
    if value.shape != shape:
      raise ConfigError(
          f'{name}: the trained model has shape {value.shape}, not {shape}.')
    variable.assign(value)


def resolve_prefix(path):
  """Turns what users pass into a checkpoint prefix.

  Accepts the prefix itself (`.../model.ckpt-200000`), the prefix with
  `.index`, `.meta` or `.data-00000-of-00001` appended, or the folder holding
  it (the newest checkpoint there).

  Raises:
    CheckpointError: when nothing there is a checkpoint.
  """
  path = os.fspath(path)
  if os.path.isdir(path):
    latest = tf.train.latest_checkpoint(path)
    if latest and os.path.exists(latest + '.index'):
      return latest
    indexes = glob.glob(os.path.join(path, '*.index'))
    if not indexes:
      raise CheckpointError(f'{path}: folder holds no checkpoint (no .index).')
    newest = max(indexes, key=lambda name: (_step(name), name))
    return newest[:-len('.index')]
  prefix = _DATA_SUFFIX.sub('', path)
  if not os.path.exists(prefix + '.index'):
    if os.path.exists(path) or os.path.exists(prefix):
      raise CheckpointError(
          f'{path}: not a TensorFlow checkpoint ({prefix}.index is missing).')
    raise CheckpointError(f'{path}: no such checkpoint.')
  return prefix


def _step(index_path):
  match = re.search(r'-(\d+)\.index$', index_path)
  return int(match.group(1)) if match else -1


def _read_shapes(prefix):
  try:
    reader = tf.train.load_checkpoint(prefix)
    return reader, reader.get_variable_to_shape_map()
  except (tf.errors.OpError, ValueError) as error:
    raise CheckpointError(
        f'{prefix}: unreadable checkpoint ({error.__class__.__name__}: '
        f'{str(error).splitlines()[0]}).') from error


def infer_config(shapes, source='checkpoint'):
  """Builds the `WaveNetConfig` whose variables have these shapes.

  Widths, layer counts and filter lengths are read off the shapes. A preset
  with those values is returned as it is (its dilation cycle and hop too);
  otherwise dilations are assumed to cycle every 10 layers (fewer when there
  are fewer layers), with hop 512, as in the published model.

  Args:
    shapes: {checkpoint name: shape}.
    source: Name used in error messages.
  """
  required = ['ae_startconv/W', 'ae_bottleneck/W', 'startconv/W',
              'skip_start/W', 'cond_map_out1/W']
  missing = [name for name in required if name not in shapes]
  if missing:
    raise CheckpointError(
        f'{source}: not an NSynth WaveNet checkpoint; missing '
        f'{", ".join(missing)}.')
  count = lambda pattern: len([n for n in shapes if re.fullmatch(pattern, n)])
  read = dict(
      encoder_width=shapes['ae_startconv/W'][-1],
      encoder_layers=count(r'ae_dilatedconv_\d+/W'),
      encoder_filter_length=shapes['ae_startconv/W'][1],
      bottleneck_width=shapes['ae_bottleneck/W'][-1],
      decoder_width=shapes['startconv/W'][-1],
      skip_width=shapes['skip_start/W'][-1],
      decoder_layers=count(r'dilatedconv_\d+/W'),
      filter_length=shapes['startconv/W'][1],
      pitch_classes=(shapes['cond_map_out1/W'][2]
                     - shapes['ae_bottleneck/W'][-1]))
  for preset in PRESETS.values():
    if all(getattr(preset, key) == value for key, value in read.items()):
      return preset
  try:
    return WaveNetConfig(
        name='inferred', encoder_stages=min(10, read['encoder_layers']),
        decoder_stages=min(10, read['decoder_layers']), **read)
  except ConfigError as error:
    raise CheckpointError(
        f'{source}: cannot infer the model: {error}') from None


def load_weights(model, prefix, use_ema=False):
  """Assigns a TF1-layout checkpoint's weights to `model`.

  Args:
    model: An `NSynthAutoencoder`.
    prefix: Checkpoint prefix (see `resolve_prefix`).
    use_ema: Take `<name>/ExponentialMovingAverage` where the checkpoint has
      it. The reference's own generation and encoding restore the raw
      variables, so the default (False) gives the reference's numbers.

  Raises:
    CheckpointError: listing every missing or mis-shaped variable.
  """
  reader, shapes = _read_shapes(prefix)
  table = variable_table(model)
  problems, chosen = [], {}
  for name, (_, expected) in sorted(table.items()):
    source = name + EMA_SUFFIX if use_ema and (
        name + EMA_SUFFIX) in shapes else name
    if source not in shapes:
      problems.append(f'missing {name} (expected {list(expected)})')
    elif tuple(shapes[source]) != expected:
      problems.append(f'{source} has shape {list(shapes[source])}, '
                      f'expected {list(expected)}')
    else:
      chosen[name] = source
  if problems:
    raise CheckpointError(
        f'{prefix}: does not fit the {model.config.name} model: '
        + '; '.join(problems) + '.')
  for name, source in chosen.items():
    variable = table[name][0]
    variable.assign(np.reshape(reader.get_tensor(source), variable.shape))


def training_checkpoint(model, average, **state):
  """The object-based checkpoint that `training.trainer.Trainer` saves.

  Args:
    model: The `NSynthAutoencoder` being trained.
    average: Its `ema.WeightAverage`.
    **state: The rest of the training state (the trainer's `optimizer` and
      `step`); leave it out to read only the weights.
  """
  return tf.train.Checkpoint(model=model, average=average, **state)


def load_training_weights(model, prefix, use_ema=False):
  """Assigns a trainer checkpoint's weights to `model`.

  Only the model and its weight average are read; the optimizer's state and
  the step are left in the checkpoint.

  Args:
    model: An `NSynthAutoencoder` of the config the trainer used.
    prefix: Checkpoint prefix (`logdir/ckpt-<step>`).
    use_ema: Take the averaged weights instead of the raw ones.

  Raises:
    CheckpointError: when the checkpoint does not hold this model's weights.
  """
  average = WeightAverage(model.trainable_variables)
  try:
    training_checkpoint(model, average).read(
        prefix).expect_partial().assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as error:
    raise CheckpointError(
        f'{prefix}: not a training checkpoint of the {model.config.name} '
        f'model ({str(error).splitlines()[0]}).') from None
  if use_ema:
    for variable, value in zip(model.trainable_variables, average.values()):
      variable.assign(value)


def write_config(config, folder):
  """Writes `config` (a `WaveNetConfig`) to `folder/config.json` atomically.

  Creates `folder` when it does not exist.
  """
  def write(path):
    with open(path, 'w') as handle:
      json.dump(config.to_dict(), handle, indent=2)
  os.makedirs(folder, exist_ok=True)
  atomic_write(os.path.join(folder, CONFIG_FILE), write)


def read_config(folder):
  """The `WaveNetConfig` in `folder/config.json`, or None if there is none."""
  path = os.path.join(folder, CONFIG_FILE)
  if not os.path.isfile(path):
    return None
  try:
    with open(path) as handle:
      return WaveNetConfig.from_dict(json.load(handle))
  except (ValueError, TypeError) as error:
    raise CheckpointError(f'{path}: invalid config ({error}).') from None


def save_model(model, folder):
  """Writes `config.json` and TF1-layout weights (`model.ckpt`) atomically.

  The weights use the published checkpoint's names and shapes, so Magenta's
  own `tf.train.Saver` could restore them too.
  """
  def write(staging):
    write_config(model.config, staging)
    table = variable_table(model)
    names = sorted(table)
    tf.raw_ops.SaveV2(
        prefix=os.path.join(staging, WEIGHTS_PREFIX), tensor_names=names,
        shape_and_slices=[''] * len(names),
        tensors=[tf.reshape(table[name][0], table[name][1]) for name in names])
  atomic_folder(folder, write)


def load_checkpoint(path, config=None, use_ema=False):
  """Returns an `NSynthAutoencoder` with the weights stored at `path`.

  Args:
    path: One of
      * a Magenta TF1 checkpoint: its prefix (`.../model.ckpt-200000`), the
        prefix with `.index`/`.data-00000-of-00001` appended, or its folder;
      * a folder written by `save_model` (config.json + model.ckpt), such as
        a training run's `logdir/export` (its averaged weights);
      * a training run's logdir: its newest trainer checkpoint, so a model
        loaded while the run goes on has its latest saved state (the export
        in `logdir/export` is not looked at); or one trainer checkpoint's
        prefix (`logdir/ckpt-40`);
      * a `.keras` file.
    config: Optional `WaveNetConfig` or preset name; by default read from
      the config.json beside the checkpoint, or inferred from the variable
      shapes of a TF1 checkpoint.
    use_ema: Take the exponential-moving-average weights: a TF1 checkpoint's
      `<name>/ExponentialMovingAverage` copies (see `load_weights`), a trainer
      checkpoint's weight average. By default the raw weights are loaded.

  Raises:
    CheckpointError: naming the path and every variable that is missing or
      has the wrong shape.
  """
  path = os.fspath(path)
  if path.endswith('.keras'):
    if not os.path.isfile(path):
      raise CheckpointError(f'{path}: no such file.')
    try:
      model = keras.saving.load_model(path)
    except Exception as error:  # pylint: disable=broad-except
      raise CheckpointError(
          f'{path}: unreadable Keras file ({error}).') from error
    if not isinstance(model, NSynthAutoencoder):
      raise CheckpointError(f'{path}: holds a {type(model).__name__}, not an '
                            'NSynthAutoencoder.')
    return model
  prefix = resolve_prefix(path)
  if config is None:
    config = read_config(os.path.dirname(prefix))
  shapes = _read_shapes(prefix)[1]
  if OBJECT_GRAPH_KEY not in shapes:
    model = NSynthAutoencoder(config or infer_config(shapes, source=prefix))
    load_weights(model, prefix, use_ema=use_ema)
    return model
  if config is None:
    raise CheckpointError(
        f'{prefix}: a training checkpoint with no {CONFIG_FILE} beside it; '
        'pass its config (the preset it was trained with).')
  model = NSynthAutoencoder(config)
  load_training_weights(model, prefix, use_ema=use_ema)
  return model
