"""The model shipped with the repository, `checkpoints/h64_bo16/`.

The folder sits at the repository's top level (beside the package), so it is
found in a source checkout or an editable install, not in a wheel.
"""

import os

from magenta_wavenet.checkpoint import load_model
from magenta_wavenet.errors import CheckpointError

SHIPPED_PRESET = 'h64_bo16'
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shipped_model_path():
  """Folder of the shipped checkpoint (config.json + model.ckpt.*)."""
  return os.path.join(REPO_ROOT, 'checkpoints', SHIPPED_PRESET)


def default_model():
  """The shipped `h64_bo16` model, trained on FluidR3_GM notes.

  Its weights are the training run's exponential moving average; see
  checkpoints/README.md for the data, the steps and its scores.

  Raises:
    CheckpointError: when the folder is missing (e.g. a wheel install, which
      does not carry checkpoints/); pass a path to `load_model` instead.
  """
  path = shipped_model_path()
  if not os.path.isfile(os.path.join(path, 'config.json')):
    raise CheckpointError(
        f'{path}: the shipped checkpoint is not there (it lives in the '
        'repository, not in the installed package); use a source checkout or '
        'pass a checkpoint path to load_model.')
  return load_model(path)
