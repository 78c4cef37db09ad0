r"""Turns the recipe's averaged weights into a model folder of this package.

`train_torch_gpu.py` writes, into its `--out` folder, `ema.npz` (the
averaged weights by checkpoint name, Keras layout, as `init.npz` from
`prepare_inputs`), `config.json` (the preset it trained, copied from its
inputs) and `probe.npz` ('classes' [2, 2048], 'pitch' [2] and the PyTorch
port's float32 'logits' [2, 2048, 256] for them with those weights). This
builds the preset of the `config.json` beside --weights (or --config),
loads `ema.npz` into it, checks that this package's logits of the probe equal
the recipe's (max abs difference at most --probe_tolerance of the largest
|logit|; a pitch-conditioned preset hears the probe's pitch), and writes the
model with `save_model`, as `checkpoints/h64_bo16` was written.

Usage (from the repository root):

  python -m tools.recipe.convert --weights output/run3/ema.npz \
      --probe output/run3/probe.npz --save_path checkpoints/h64_bo16
  python -m tools.recipe.convert --weights output/recipe_inputs/init.npz \
      --config h64_bo16_pitch --save_path output/untrained_pitch
"""

import os

from absl import flags
import numpy as np

from magenta_wavenet.cli import common
from magenta_wavenet.errors import CheckpointError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.model.autoencoder import NSynthAutoencoder
from magenta_wavenet.model.checkpoint import CONFIG_FILE
from magenta_wavenet.model.checkpoint import read_config
from magenta_wavenet.model.checkpoint import save_model
from magenta_wavenet.model.checkpoint import variable_table
from tools.recipe.prepare_inputs import RECIPE_PRESETS
from tools.recipe.prepare_inputs import keras_logits

FLAGS = common.new_flags()
flags.DEFINE_string('weights', None, "The recipe's ema.npz (or any .npz of "
                    'its layout, e.g. init.npz).', flag_values=FLAGS)
flags.DEFINE_enum('config', None, RECIPE_PRESETS, 'Preset of the weights; by '
                  f'default the one in the {CONFIG_FILE} beside --weights.',
                  flag_values=FLAGS)
flags.DEFINE_string('probe', '', "The recipe's probe.npz; empty: no check.",
                    flag_values=FLAGS)
flags.DEFINE_float('probe_tolerance', 1e-5, 'Largest max abs difference of '
                   "the probe's logits, as a fraction of the largest |logit|.",
                   lower_bound=0.0, flag_values=FLAGS)
flags.DEFINE_string('save_path', None, 'Model folder written (save_model).',
                    flag_values=FLAGS)


def assign_weights(model, arrays):
  """Sets every weight of `model` from arrays keyed by checkpoint name.

  Args:
    model: An `NSynthAutoencoder`.
    arrays: Mapping like {'dilatedconv_12/W': [3, 64, 128], ...} in the
      Keras layout (an `np.load`ed .npz works).

  Raises:
    CheckpointError: listing every missing or mis-shaped array.
  """
  table = variable_table(model)
  problems = []
  for name, (variable, _) in sorted(table.items()):
    if name not in arrays:
      problems.append(f'missing {name}')
    elif tuple(arrays[name].shape) != tuple(variable.shape):
      problems.append(f'{name} has shape {list(arrays[name].shape)}, '
                      f'expected {list(variable.shape)}')
  if problems:
    raise CheckpointError(f'the weights do not fit {model.config.name}: '
                          + '; '.join(problems) + '.')
  for name, (variable, _) in table.items():
    variable.assign(np.asarray(arrays[name], np.float32))


def probe_difference(model, probe):
  """How far this package's logits are from the recipe's probe.

  Args:
    model: An `NSynthAutoencoder` holding the recipe's weights.
    probe: Mapping with 'classes' [batch, samples], 'logits'
      [batch, samples, 256] and, for a pitch-conditioned model, 'pitch'
      [batch] MIDI pitches (the recipe's probe.npz).

  Returns:
    (max abs difference, largest |logit| of the probe).
  """
  logits = keras_logits(model, probe['classes'], probe.get('pitch'))
  return (float(np.abs(logits - probe['logits']).max()),
          float(np.abs(probe['logits']).max()))


def weights_config(weights, preset=None):
  """The preset of a recipe's weights file.

  Args:
    weights: Path of an .npz from the recipe or `prepare_inputs`.
    preset: A name of `RECIPE_PRESETS` overriding the file's config.

  Returns:
    `preset`, else the `WaveNetConfig` of the config.json beside `weights`.

  Raises:
    CheckpointError: when neither is there.
  """
  if preset:
    return preset
  config = read_config(os.path.dirname(os.path.abspath(weights)))
  if config is None:
    raise CheckpointError(f'{weights}: no {CONFIG_FILE} beside it; pass '
                          '--config.')
  return config


def _body(flag_values):
  if not flag_values.weights or not flag_values.save_path:
    raise MagentaWavenetError('--weights and --save_path are required.')
  model = NSynthAutoencoder(weights_config(flag_values.weights,
                                           flag_values.config))
  with np.load(flag_values.weights) as arrays:
    assign_weights(model, arrays)
  if flag_values.probe:
    with np.load(flag_values.probe) as probe:
      difference, scale = probe_difference(model, probe)
    print(f'max |keras - recipe| probe logits: {difference:.3g} (logits up '
          f'to {scale:.3g})')
    if difference > flag_values.probe_tolerance * max(scale, 1.0):
      raise MagentaWavenetError(
          f'{flag_values.probe}: the logits differ by {difference:.3g}, more '
          f'than {flag_values.probe_tolerance:g} of {max(scale, 1.0):.3g}; '
          'not saved.')
  save_model(model, flag_values.save_path)
  print(f'Saved {model.config.name} to {flag_values.save_path}.')


def main(argv=None):
  """Command-line entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
