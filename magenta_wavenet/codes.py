"""Code files: encoding audio files in batches, saving and loading `.npy`
codes with their checks.

A code is float32 [frames, channels] (31.25 frames per second for hop 512
at 16 kHz); a pitch-conditioned model's ends with a channel holding the MIDI
pitch, which `fit_code` adds to a code or sets. Functions over many files
take `on_error`, a function `(path, error)` called for each input that
cannot be read or written (one of `errors.USER_ERRORS`) before going on with
the others; without it the first such error is raised.
"""

import collections
import contextlib
import io
import logging

import numpy as np

from magenta_wavenet.errors import USER_ERRORS
from magenta_wavenet.errors import CodeError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import LOCAL
from magenta_wavenet.model.autoencoder import check_code
from magenta_wavenet.model.config import PRESETS
from magenta_wavenet.sound.audio import load_audio
from magenta_wavenet.sound.dsp import to_level
from magenta_wavenet.sound.dsp import trim_for_encoding
from magenta_wavenet.sound.pitch import check_model_pitch
from magenta_wavenet.sound.pitch import check_pitch
from magenta_wavenet.sound.pitch import note_pitch
from magenta_wavenet.sound.pitch import shift_pitch

logger = logging.getLogger(__name__)

ENCODE_BATCH = 16  # clips encoded at once by `encode_shifted`


def fit_code(code, config, pitch=None, source='code'):
  """A code as the model of `config` plays it, at `pitch` if given.

  A pitch-conditioned model takes a code of bottleneck_width channels (one
  of a model without pitch, such as Magenta's) with `pitch` appended; in a
  code that has its pitch channel, `pitch` replaces it.

  Args:
    code: float32 array [frames, channels].
    config: The model's `WaveNetConfig`.
    pitch: None, or a MIDI number in [0, 127] (fractions fall between
      semitones) for a pitch-conditioned model.
    source: What to call the code in messages (a file name).

  Returns:
    float32 array [frames, config.code_width].

  Raises:
    CodeError: for a code of another width (saying what to do when only
      the pitch is missing), or a pitch the model cannot take.
  """
  pitch = check_model_pitch(config, pitch)
  code = np.asarray(code, np.float32)
  learned = config.bottleneck_width
  if code.shape[-1] != learned or not config.pitch_classes:
    check_code(code[None], config, source=source)
  elif pitch is None:
    unpitched = ' or '.join(name for name, preset in PRESETS.items()
                            if preset.code_width == learned)
    raise CodeError(
        f'{source}: a {learned}-channel code, which models without pitch '
        f'take' + (f' (--checkpoint_path={unpitched})' if unpitched else '')
        + f'; the pitch-conditioned {config.name} takes '
        f'{config.code_width} channels: give --pitch=N to play it at MIDI N.')
  if pitch is None:
    return code
  return np.concatenate(
      [code[:, :learned], np.full((len(code), 1), pitch[0], np.float32)],
      axis=-1)


def load_code(path, config=None, pitch=None):
  """Reads a code saved as `.npy`, refusing pickled files.

  Args:
    path: `.npy` file holding [frames, channels] or [1, frames, channels].
    config: If given, the code must fit its model (`fit_code`).
    pitch: With `config`: the MIDI pitch to play the code at (`fit_code`).

  Returns:
    float32 array [frames, channels].
  """
  try:
    code = np.load(path, allow_pickle=False)
  except (ValueError, EOFError) as error:
    raise CodeError(
        f'{path}: not a plain numeric .npy file ({error}).') from None
  if not isinstance(code, np.ndarray):  # an .npz archive
    code.close()
    raise CodeError(f'{path}: an .npz archive, not a single .npy array.')
  if code.ndim == 3 and code.shape[0] == 1:
    code = code[0]
  if code.ndim != 2 or code.dtype.kind not in 'fiu':
    raise CodeError(
        f'{path}: expected a numeric array [frames, channels], got '
        f'{code.dtype} {list(code.shape)}.')
  if not np.all(np.isfinite(code)):
    raise CodeError(f'{path}: contains NaN or infinite values.')
  if config is not None:
    return fit_code(code, config, pitch, source=path)
  return code.astype(np.float32)


def save_code(path, code, files=LOCAL):
  """Writes a code [frames, channels] as float32 `.npy`, atomically.

  Args:
    path: Destination `.npy` path.
    code: float array [frames, channels].
    files: Where `path` is (`files.LocalFiles`, or a distributed run's).
  """
  stream = io.BytesIO()
  np.save(stream, np.asarray(code, np.float32), allow_pickle=False)
  files.write_bytes(path, stream.getvalue())


@contextlib.contextmanager
def reported(path, on_error):
  """Inside, a user error of `path` goes to `on_error` (raised when None)."""
  try:
    yield
  except USER_ERRORS as error:
    if on_error is None:
      raise
    on_error(path, error)


def stack_padded(codes):
  """Codes of different lengths as one batch, each zero-padded at its end.

  Args:
    codes: float32 arrays [frames_i, code_width].

  Returns:
    float32 array [len(codes), max frames_i, code_width].
  """
  frames = max(len(code) for code in codes)
  return np.stack([np.pad(code, [[0, frames - len(code)], [0, 0]])
                   for code in codes])


def encode_at_level(model, clips, pitch=None):
  """Codes of clips at the level the model hears best (`at_level`).

  `model.encode` itself takes audio as it is, as the reference does; every
  command that encodes audio encodes it here.

  Args:
    model: An `NSynthAutoencoder`.
    clips: float32 [batch, samples] at the model's rate, whole hops.
    pitch: None, or MIDI pitches ([1] or [batch]) for a pitch-conditioned
      model (`model.encode`).

  Returns:
    float32 array [batch, samples // hop_length, code_width].
  """
  return model.encode(at_level(model, clips)[0], pitch).numpy()


def at_level(model, audio):
  """Audio as `model` hears it best (`dsp.to_level` at its `input_peak`:
  its offset out and, when quiet, raised) and the gain by which each clip was
  raised, which a resynthesis is divided by to be as loud as its input.

  Returns:
    (float32 array like `audio`, float32 gain [batch] for [batch,
    samples] or a scalar for [samples]).
  """
  levelled, gain = to_level(audio, model.config.input_peak)
  return levelled.numpy(), gain.numpy()


def encode_shifted(model, audio, pitches, own_pitch=None,
                   batch_size=ENCODE_BATCH, source='audio'):
  """Codes of one sound moved to each of `pitches`, as a sampler plays it.

  The audio is shifted from its own pitch to each pitch (`shift_pitch`,
  length kept) and then encoded (`encode_at_level`); a pitch-conditioned
  model's code is told that pitch too. Code and pitch input then agree,
  and the decoder plays the pitch far more often than from the sound's own
  code with only its pitch channel moved, which leaves the pitch the code
  carries to compete with it (`python -m tools.compare_models
  --follow_semitones` measures both).

  Args:
    model: An `NSynthAutoencoder`.
    audio: float32 [samples] at the model's rate.
    pitches: MIDI pitches to play the sound at.
    own_pitch: The sound's MIDI pitch; default pYIN's (`note_pitch`, which
      logs a sound without pitch and takes middle C for it).
    batch_size: Most clips encoded at once.
    source: What to call the sound in that log line (a file name).

  Returns:
    float32 array [len(pitches), frames, code_width].

  Raises:
    CodeError: for a pitch outside MIDI 0-127, before any work.
  """
  rate = model.config.sample_rate
  pitches = check_pitch(pitches, np.size(pitches))
  if own_pitch is None:
    own_pitch = note_pitch(audio, rate, source)
  clips = np.stack([shift_pitch(audio, pitch - own_pitch, rate)
                    for pitch in pitches])
  codes = []
  for start in range(0, len(clips), batch_size):
    stop = start + batch_size
    codes.append(encode_at_level(
        model, clips[start:stop],
        pitches[start:stop] if model.config.pitch_classes else None))
  return np.concatenate(codes)


def encode_files(model, paths, sample_length, on_error=None, pitch=None):
  """Loads and encodes audio files, grouping equal lengths into one call.

  Each file is cut to at most `sample_length` samples and then to whole
  hops, as the reference does; files of equal trimmed length are encoded
  together (`encode_at_level`), so every code equals the file's code encoded
  alone. A file that cannot be read goes to `on_error` and is skipped.
  With `pitch`, each file is first shifted from its own pitch to it, as
  `encode_shifted` does.

  Args:
    model: An `NSynthAutoencoder`.
    paths: Audio files.
    sample_length: Most samples to use per file.
    on_error: Function (path, error) for unreadable files; None raises.
    pitch: For a pitch-conditioned model, the MIDI pitch to play every file
      at; None: each file's own, unshifted.

  Returns:
    List of (path, audio float32 [samples] as read (shifted with `pitch`),
    before `encode_at_level` levels it, code float32 [frames, channels])
    for the files that loaded, in input order.
  """
  hop = model.config.hop_length
  rate = model.config.sample_rate
  pitch = check_model_pitch(model.config, pitch)
  loaded = {}
  for path in paths:
    with reported(path, on_error):
      audio = trim_for_encoding(
          load_audio(path, rate, min_samples=hop), hop, sample_length)
      if pitch is not None:
        audio = shift_pitch(audio, pitch[0] - note_pitch(audio, rate, path),
                            rate)
      loaded[path] = audio
  by_length = collections.defaultdict(list)
  for path, audio in loaded.items():
    by_length[audio.shape[0]].append(path)
  codes = {}
  for group in by_length.values():
    group_codes = encode_at_level(
        model, np.stack([loaded[p] for p in group]), pitch)
    codes.update(zip(group, group_codes))
  return [(path, loaded[path], codes[path]) for path in paths if path in codes]


def save_embeddings(model, paths, outputs, sample_length, batch_size,
                    on_error=None):
  """Encodes audio files `batch_size` at a time and saves one code per file.

  Args:
    model: An `NSynthAutoencoder`.
    paths: Audio files.
    outputs: dict {path: `.npy` file to write its code to}.
    sample_length: Most samples encoded per file (16 kHz).
    batch_size: Files read and encoded per batch.
    on_error: Function (path, error) for files that fail; None raises.

  Returns:
    List of the paths whose code was saved.
  """
  saved = []
  for start in range(0, len(paths), batch_size):
    chunk = paths[start:start + batch_size]
    logger.info('Batch %d: files %d to %d of %d.', start // batch_size + 1,
                start + 1, start + len(chunk), len(paths))
    for path, _, code in encode_files(model, chunk, sample_length, on_error):
      with reported(path, on_error):
        save_code(outputs[path], code)
        logger.info('%s -> %s %s', path, outputs[path], list(code.shape))
        saved.append(path)
  return saved


def read_codes(paths, get_model, sample_length, on_error=None, fit=False,
               pitch=None):
  """Codes [frames, channels] of audio files (encoded) or `.npy` files.

  Args:
    paths: Audio or `.npy` files.
    get_model: Function returning the `NSynthAutoencoder` that encodes the
      audio files; called only when there are some, or to fit the codes.
    sample_length: Most samples encoded per audio file.
    on_error: Function (path, error) for each input that fails; None raises
      the first error.
    fit: Whether the `.npy` codes must fit the model (`fit_code`), as codes
      to synthesize must; else they are read as they are.
    pitch: MIDI pitch of every code (`fit_code`; audio is encoded at it);
      implies `fit`. None: each code's own.

  Returns:
    List of codes, one per path, in order.

  Raises:
    CodeError: at once, for a pitch the model cannot take.
    MagentaWavenetError: after `on_error` got every input that failed.
  """
  failed = []

  def fail(path, error):
    failed.append(path)
    on_error(path, error)

  report = fail if on_error else None
  config = None
  if fit or pitch is not None:
    config = get_model().config
    check_model_pitch(config, pitch)
  codes = {}
  audio = [p for p in paths if not p.lower().endswith('.npy')]
  if audio:
    for path, _, code in encode_files(get_model(), audio, sample_length,
                                      report, pitch):
      codes[path] = code
  for path in paths:
    if path.lower().endswith('.npy'):
      with reported(path, report):
        codes[path] = load_code(path, config, pitch)
  if failed:
    raise MagentaWavenetError(
        f'{len(failed)} of {len(paths)} inputs could not be read.')
  return [codes[path] for path in paths]
