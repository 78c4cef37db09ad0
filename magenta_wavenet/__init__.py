"""magenta_wavenet: NSynth's WaveNet autoencoder in TensorFlow 2 / Keras 3."""

__version__ = '0.3.0'

import os

# TensorFlow's C++ info and warning lines on every command hide the one line
# a user needs; users can still set the variable.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=wrong-import-position

# TensorFlow comes from an extra ([cpu] or [cuda]), so it may be missing.
try:
  import tensorflow
except ImportError as error:
  raise ImportError(
      'magenta_wavenet needs TensorFlow: pip install "magenta_wavenet[cpu]" '
      '(or "[cuda]" on a machine with an NVIDIA GPU), or pip install -r '
      'requirements.txt.') from error

from magenta_wavenet.codes import encode_at_level
from magenta_wavenet.codes import encode_shifted
from magenta_wavenet.errors import AudioError
from magenta_wavenet.errors import CheckpointError
from magenta_wavenet.errors import CodeError
from magenta_wavenet.errors import ConfigError
from magenta_wavenet.errors import DataError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.model.autoencoder import NSynthAutoencoder
from magenta_wavenet.model.checkpoint import save_model
from magenta_wavenet.model.config import PRESETS
from magenta_wavenet.model.config import WaveNetConfig
from magenta_wavenet.model.config import get_config
from magenta_wavenet.model.pretrained import default_model
from magenta_wavenet.model.pretrained import load_model
from magenta_wavenet.model.pretrained import model_names
from magenta_wavenet.sound.audio import bundled_sound
from magenta_wavenet.sound.audio import load_audio
from magenta_wavenet.sound.audio import save_wav
from magenta_wavenet.sound.harmonics import harmonic_filter
from magenta_wavenet.synthesis.expectation import expected_audio
from magenta_wavenet.synthesis.generation import Synthesizer
from magenta_wavenet.synthesis.generation import incremental_logits
from magenta_wavenet.synthesis.generation import synthesize
from magenta_wavenet.synthesis.incremental import IncrementalDecoder
