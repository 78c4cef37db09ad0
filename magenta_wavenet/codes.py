"""Code files: encoding audio files in batches, saving and loading `.npy`
codes with their checks.

A code is float32 [frames, channels] (31.25 frames per second for hop 512
at 16 kHz). Functions over many files take `on_error`, a function
`(path, error)` called for each input that cannot be read or written (one of
`errors.USER_ERRORS`) before going on with the others; without it the first
such error is raised.
"""

import collections
import contextlib
import logging

import numpy as np

from magenta_wavenet.audio import load_audio
from magenta_wavenet.autoencoder import check_code
from magenta_wavenet.dsp import trim_for_encoding
from magenta_wavenet.errors import USER_ERRORS
from magenta_wavenet.errors import CodeError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import atomic_write

logger = logging.getLogger(__name__)


def load_code(path, config=None):
  """Reads a code saved as `.npy`, refusing pickled files.

  Args:
    path: `.npy` file holding [frames, channels] or [1, frames, channels].
    config: If given, the channels must equal its `code_width`.

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
    check_code(code[None], config, source=path)
  return code.astype(np.float32)


def save_code(path, code):
  """Writes a code [frames, channels] as float32 `.npy`, atomically."""
  atomic_write(path, lambda temporary: np.save(
      temporary, np.asarray(code, np.float32), allow_pickle=False))


@contextlib.contextmanager
def reported(path, on_error):
  """Inside, a user error of `path` goes to `on_error` (raised when None)."""
  try:
    yield
  except USER_ERRORS as error:
    if on_error is None:
      raise
    on_error(path, error)


def encode_files(model, paths, sample_length, on_error=None):
  """Loads and encodes audio files, grouping equal lengths into one call.

  Each file is cut to at most `sample_length` samples and then to whole
  hops, as the reference does; files of equal trimmed length are encoded
  together, so every code equals the file's code encoded alone. A file that
  cannot be read goes to `on_error` and is skipped.

  Args:
    model: An `NSynthAutoencoder`.
    paths: Audio files.
    sample_length: Most samples to use per file.
    on_error: Function (path, error) for unreadable files; None raises.

  Returns:
    List of (path, audio float32 [samples], code float32 [frames, channels])
    for the files that loaded, in input order.
  """
  hop = model.config.hop_length
  loaded = {}
  for path in paths:
    with reported(path, on_error):
      audio = load_audio(path, model.config.sample_rate, min_samples=hop)
      loaded[path] = trim_for_encoding(audio, hop, sample_length)
  by_length = collections.defaultdict(list)
  for path, audio in loaded.items():
    by_length[audio.shape[0]].append(path)
  codes = {}
  for group in by_length.values():
    group_codes = model.encode(np.stack([loaded[p] for p in group])).numpy()
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


def read_codes(paths, get_model, sample_length, on_error=None):
  """Codes [frames, channels] of audio files (encoded) or `.npy` files.

  Args:
    paths: Audio or `.npy` files.
    get_model: Function returning the `NSynthAutoencoder` that encodes the
      audio files; called only when there are some.
    sample_length: Most samples encoded per audio file.
    on_error: Function (path, error) for each input that fails; None raises
      the first error.

  Returns:
    List of codes, one per path, in order.

  Raises:
    MagentaWavenetError: after `on_error` got every input that failed.
  """
  failed = []

  def fail(path, error):
    failed.append(path)
    on_error(path, error)

  report = fail if on_error else None
  codes = {}
  audio = [p for p in paths if not p.lower().endswith('.npy')]
  if audio:
    for path, _, code in encode_files(get_model(), audio, sample_length,
                                      report):
      codes[path] = code
  for path in paths:
    if path.lower().endswith('.npy'):
      with reported(path, report):
        codes[path] = load_code(path)
  if failed:
    raise MagentaWavenetError(
        f'{len(failed)} of {len(paths)} inputs could not be read.')
  return [codes[path] for path in paths]
