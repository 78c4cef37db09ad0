"""Reading any audio file as 16 kHz mono float32, and writing WAVs atomically.

Decoding uses tensorflow-io when its ops actually run (it installs with
`pip install .[tfio]` and works with TensorFlow 2.16/2.17 only), otherwise
soundfile, with librosa (audioread) for formats libsndfile cannot read.
Resampling is always soxr's (through librosa), so both backends give the
same samples.
"""

import functools
import io
import logging
import os
import warnings

import numpy as np

from magenta_wavenet.errors import AudioError
from magenta_wavenet.errors import AudioTooLong
from magenta_wavenet.files import LOCAL

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
# File extensions read as audio when a folder or pattern is listed.
AUDIO_EXTENSIONS = ('.wav', '.flac', '.ogg', '.mp3', '.aiff', '.aif', '.au')
MAX_SAMPLE_RATE = 768000  # the highest rate audio files are made at, Hz
BACKEND_ENV = 'MAGENTA_WAVENET_AUDIO_BACKEND'
# The bundled notes, in the package's own folder.
SOUNDS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'sounds')


def import_librosa():
  """The librosa module, imported on first use.

  librosa.util.files imports pooch, which imports tqdm.auto; in a
  notebook without ipywidgets that warns "IProgress not found" about
  progress bars librosa never shows here, so the import hides that warning.
  """
  with warnings.catch_warnings():
    warnings.filterwarnings('ignore', message='IProgress not found')
    import librosa as module  # pylint: disable=import-outside-toplevel
    import librosa.util.files  # pylint: disable=import-outside-toplevel,unused-import
  return module


def bundled_sound(name):
  """Path of a sound shipped with the package: 'nsynth_e5', 'nsynth_a1' or
  'nsynth_b4' (2.5 s NSynth notes, see sounds/README.md)."""
  path = os.path.join(SOUNDS_DIR, name if name.endswith('.wav')
                      else name + '.wav')
  if not os.path.isfile(path):
    names = sorted(f[:-4] for f in os.listdir(SOUNDS_DIR) if f.endswith('.wav'))
    raise AudioError(f'{name}: no such bundled sound; choose one of '
                     f'{", ".join(names)}.')
  return path


@functools.lru_cache(maxsize=None)
def _tfio_works():
  """True when tensorflow-io imports and one of its ops really runs."""
  try:
    import tensorflow as tf
    import tensorflow_io as tfio  # pylint: disable=import-outside-toplevel
    silence = np.zeros(4, np.int16).tobytes()
    header = (b'RIFF' + (36 + len(silence)).to_bytes(4, 'little') + b'WAVEfmt '
              + (16).to_bytes(4, 'little') + (1).to_bytes(2, 'little')
              + (1).to_bytes(2, 'little') + SAMPLE_RATE.to_bytes(4, 'little')
              + (2 * SAMPLE_RATE).to_bytes(4, 'little')
              + (2).to_bytes(2, 'little') + (16).to_bytes(2, 'little')
              + b'data' + len(silence).to_bytes(4, 'little'))
    tfio.audio.decode_wav(tf.constant(header + silence), dtype=tf.int16)
    return True
  except Exception:  # pylint: disable=broad-except
    # Import errors, NotImplementedError from unloadable ops, and anything
    # else a broken install raises all mean the same: not usable.
    return False


def audio_backend():
  """Name of the decoder in use: 'tensorflow-io' or 'soundfile'.

  The environment variable MAGENTA_WAVENET_AUDIO_BACKEND ('soundfile' or
  'tensorflow-io') forces one; forcing tensorflow-io where it cannot run is an
  error.
  """
  wanted = os.environ.get(BACKEND_ENV, '').strip().lower()
  if wanted == 'soundfile':
    return 'soundfile'
  if wanted in ('tensorflow-io', 'tfio'):
    if not _tfio_works():
      raise AudioError(f'{BACKEND_ENV}={wanted} but tensorflow-io ops do not '
                       'run here (it needs TensorFlow 2.16 or 2.17).')
    return 'tensorflow-io'
  if wanted:
    raise AudioError(f'{BACKEND_ENV} must be "soundfile" or "tensorflow-io", '
                     f'not {wanted!r}.')
  return 'tensorflow-io' if _tfio_works() else 'soundfile'


def _decode_tfio(path, max_seconds):
  """Returns (samples [frames, channels] float32, rate) via tensorflow-io.

  With `max_seconds`, a longer file is refused from its header, and no more
  than that is decoded whatever the header says.
  """
  import tensorflow_io as tfio  # pylint: disable=import-outside-toplevel
  io_tensor = tfio.audio.AudioIOTensor(path, dtype=None)
  rate = int(io_tensor.rate.numpy())
  frames = io_tensor.shape[0]  # None where the header does not say
  _check_duration(path, frames or 0, rate, max_seconds)
  samples = (io_tensor.to_tensor() if max_seconds is None
             else io_tensor[:int(max_seconds * rate) + 1]).numpy()
  _check_duration(path, samples.shape[0], rate, max_seconds)
  if samples.dtype.kind == 'i':
    full_scale = float(np.iinfo(samples.dtype).max + 1)
    samples = samples.astype(np.float32) / full_scale
  return samples.astype(np.float32), rate


def _decode_soundfile(path, max_seconds):
  """Returns (samples [frames, channels] float32, rate) via libsndfile, or
  librosa (audioread) for what libsndfile cannot read.

  With `max_seconds`, a longer file is refused from its header, and no more
  than that is decoded whatever the header says (a header can lie).
  """
  import soundfile  # pylint: disable=import-outside-toplevel
  try:
    info = soundfile.info(path)
  except (soundfile.LibsndfileError, RuntimeError):
    info = None
  if info is not None:
    _check_duration(path, info.frames, info.samplerate, max_seconds)
    limit = -1 if max_seconds is None else int(
        max_seconds * info.samplerate) + 1
    samples, rate = soundfile.read(path, frames=limit, dtype='float32',
                                   always_2d=True)
    _check_duration(path, samples.shape[0], rate, max_seconds)
    return samples, rate
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')  # librosa's "PySoundFile failed" notice
    # A little past the limit, so that a longer file shows it is longer.
    samples, rate = import_librosa().load(
        path, sr=None, mono=False,
        duration=None if max_seconds is None else max_seconds + 0.5)
  samples = np.atleast_2d(samples).T
  _check_duration(path, samples.shape[0], rate, max_seconds)
  return samples.astype(np.float32), int(rate)


def _check_duration(path, frames, rate, max_seconds):
  """Raises AudioTooLong when `frames` at `rate` Hz last over `max_seconds`
  (None: no limit), and AudioError for a rate no audio has (which would make
  the limit's frames unbounded)."""
  if not 0 < rate <= MAX_SAMPLE_RATE:
    raise AudioError(f'{path}: a sample rate of {rate} Hz is not one of '
                     f'audio (at most {MAX_SAMPLE_RATE} Hz).')
  if max_seconds is not None and frames > max_seconds * rate:
    raise AudioTooLong(f'{path}: too long: more than {max_seconds:g} s of '
                       'audio.')


def load_audio(path, sample_rate=SAMPLE_RATE, min_samples=1,
               max_seconds=None):
  """Loads an audio file as mono float32 at `sample_rate`.

  Multi-channel audio is averaged to mono and other rates are resampled
  (soxr, high quality); both are logged at INFO level.

  Args:
    path: File to read (wav, flac, ogg, mp3, or anything audioread reads).
    sample_rate: Rate of the returned samples, in Hz.
    min_samples: Fewest samples accepted after resampling, e.g. one hop (512).
    max_seconds: Longest file accepted, in seconds, checked from the header
      before decoding and again while decoding, so a small compressed file
      cannot unpack into hours of samples; None accepts any length.

  Returns:
    float32 numpy array [samples], values nominally in [-1, 1].

  Raises:
    AudioError: naming the file, when it is missing, a directory, empty, not
      decodable as audio, has no samples, has NaN or infinite samples, or is
      shorter than `min_samples`; `AudioTooLong` when it lasts over
      `max_seconds`.
  """
  path = os.fspath(path)
  if not os.path.exists(path):
    raise AudioError(f'{path}: no such file.')
  if os.path.isdir(path):
    raise AudioError(f'{path}: is a directory, not an audio file.')
  if os.path.getsize(path) == 0:
    raise AudioError(f'{path}: the file is empty.')
  backend = audio_backend()
  try:
    samples, rate = (_decode_tfio(path, max_seconds)
                     if backend == 'tensorflow-io'
                     else _decode_soundfile(path, max_seconds))
  except AudioError:
    raise
  except Exception as error:  # pylint: disable=broad-except
    # Decoders raise many unrelated types for a non-audio file.
    reason = str(error).strip().splitlines()[0] if str(error).strip() else (
        type(error).__name__)
    raise AudioError(
        f'{path}: not a readable audio file ({reason}).') from error
  if samples.size == 0:
    raise AudioError(f'{path}: contains no audio samples.')
  if not np.all(np.isfinite(samples)):
    raise AudioError(f'{path}: contains NaN or infinite samples.')
  if samples.shape[1] > 1:
    logger.info('%s: down-mixing %d channels to mono.', path, samples.shape[1])
  mono = samples.mean(axis=1)
  if rate != sample_rate:
    logger.info('%s: resampling from %d Hz to %d Hz.', path, rate, sample_rate)
    mono = import_librosa().resample(mono, orig_sr=rate,
                                     target_sr=sample_rate,
                                     res_type='soxr_hq')
  if mono.shape[0] < min_samples:
    raise AudioError(
        f'{path}: too short: {mono.shape[0]} samples at {sample_rate} Hz, '
        f'at least {min_samples} needed.')
  return np.ascontiguousarray(mono, dtype=np.float32)


def wav_bytes(audio, sample_rate=SAMPLE_RATE):
  """A 16-bit PCM WAV file of mono float audio, as bytes.

  Args:
    audio: float array [samples] in [-1, 1]; values outside are clipped.
    sample_rate: Rate in Hz.
  """
  import soundfile  # pylint: disable=import-outside-toplevel
  stream = io.BytesIO()
  soundfile.write(stream, np.clip(np.asarray(audio, np.float32), -1.0, 1.0),
                  sample_rate, subtype='PCM_16', format='WAV')
  return stream.getvalue()


def save_wav(path, audio, sample_rate=SAMPLE_RATE, files=LOCAL):
  """Writes mono float audio as a 16-bit PCM WAV (`wav_bytes`), atomically.

  Args:
    path: Destination `.wav` path.
    audio: float array [samples] in [-1, 1]; values outside are clipped.
    sample_rate: Rate in Hz.
    files: Where `path` is (`files.LocalFiles`, or a distributed run's).
  """
  files.write_bytes(path, wav_bytes(audio, sample_rate))
