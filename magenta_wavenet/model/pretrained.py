"""Named models: those shipped with the package and Magenta's published one.

`load_model('h512_bo16')` fetches Magenta's published checkpoint
(`wavenet-ckpt.tar`, 200,000 steps on the NSynth training set) on first use
into a cache folder and loads it from there afterwards, offline;
`load_model('h64_bo16_pitch')` (the default) and `load_model('h64_bo16')`
load the small models shipped with this package. Any
other argument is a path: a checkpoint, a folder, a `.keras` file or a
`.tar` of a checkpoint (see `magenta_wavenet.model.checkpoint.load_checkpoint`).

Cache folder: `$MAGENTA_WAVENET_HOME`, default `~/.cache/magenta_wavenet`.
Mirror: `$MAGENTA_WAVENET_MIRROR` (e.g. `http://127.0.0.1:8000`) replaces the
scheme and host of the download address; the path stays.
"""

import dataclasses
import hashlib
import logging
import os
import tarfile

import requests
import tqdm

from magenta_wavenet.errors import CheckpointError
from magenta_wavenet.files import atomic_folder
from magenta_wavenet.model.checkpoint import load_checkpoint
from magenta_wavenet.model.checkpoint import resolve_prefix

logger = logging.getLogger(__name__)

HOME_VARIABLE = 'MAGENTA_WAVENET_HOME'
MIRROR_VARIABLE = 'MAGENTA_WAVENET_MIRROR'
DEFAULT_HOME = os.path.join('~', '.cache', 'magenta_wavenet')
PUBLISHED_HOST = 'http://download.magenta.tensorflow.org'
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A wheel carries the shipped checkpoints inside the package; a source
# checkout (or an editable install) has them at the repository's top level.
SHIPPED_FOLDERS = (os.path.join(PACKAGE_DIR, 'checkpoints'),
                   os.path.join(os.path.dirname(PACKAGE_DIR), 'checkpoints'))


@dataclasses.dataclass(frozen=True)
class PublishedModel:
  """A checkpoint published as a tar archive on the web.

  Attributes:
    name: What users pass to `load_model`.
    url_path: Path of the tar on the host, e.g.
      '/models/nsynth/wavenet-ckpt.tar'.
    member_prefix: Checkpoint prefix inside the tar, e.g.
      'wavenet-ckpt/model.ckpt-200000'.
    config: Preset the weights must fit; checked before the unpacked folder
      enters the cache.
    description: One line for listings.
  """
  name: str
  url_path: str
  member_prefix: str
  config: str
  description: str

  @property
  def tar_name(self):
    return os.path.basename(self.url_path)

  def url(self):
    """The download address, on the mirror when one is set."""
    host = os.environ.get(MIRROR_VARIABLE) or PUBLISHED_HOST
    return host.rstrip('/') + self.url_path


PUBLISHED = {
    'h512_bo16': PublishedModel(
        name='h512_bo16', url_path='/models/nsynth/wavenet-ckpt.tar',
        member_prefix='wavenet-ckpt/model.ckpt-200000', config='h512_bo16',
        description="Magenta's published NSynth WaveNet autoencoder "
                    '(200,000 steps on NSynth, ~1 GB download)'),
}
SHIPPED = {
    'h64_bo16_pitch': 'small pitch-conditioned model shipped with the '
                      'package (FluidR3_GM and MuseScore_General notes)',
    'h64_bo16': 'small model shipped with the package (FluidR3_GM notes)',
}
# The shipped model that keeps the pitch best on held-out notes.
DEFAULT_MODEL = 'h64_bo16_pitch'


def model_names():
  """{name: description} of every model `load_model` knows by name."""
  names = dict(SHIPPED)
  names.update({name: model.description for name, model in PUBLISHED.items()})
  return names


def cache_dir():
  """The folder downloads and unpacked archives go to."""
  return os.path.expanduser(os.environ.get(HOME_VARIABLE) or DEFAULT_HOME)


def shipped_model_path(name=DEFAULT_MODEL):
  """Folder of a shipped checkpoint (config.json + model.ckpt.*).

  Raises:
    CheckpointError: when no installed or checked-out copy holds it.
  """
  for folder in SHIPPED_FOLDERS:
    path = os.path.join(folder, name)
    if os.path.isfile(os.path.join(path, 'config.json')):
      return path
  raise CheckpointError(
      f'{name}: the shipped checkpoint is in none of '
      f'{", ".join(SHIPPED_FOLDERS)}; reinstall the package.')


def model_path(name_or_path):
  """A local checkpoint path for a model name, a `.tar` or a path.

  An existing file or folder wins over a name. Published models are
  downloaded and unpacked into `cache_dir()` on first use; a `.tar` is
  unpacked into `cache_dir()/unpacked/`. Other paths are returned as they
  are.

  Raises:
    CheckpointError: one line naming what failed (download, archive, shapes)
      and, for downloads, where to put the tar by hand.
  """
  path = os.fspath(name_or_path)
  if os.path.exists(path):
    return unpacked_tar(path) if path.endswith('.tar') else path
  if path in SHIPPED:
    return shipped_model_path(path)
  if path in PUBLISHED:
    return published_model_path(PUBLISHED[path])
  return path


def load_model(name_or_path, config=None, use_ema=False):
  """Returns an `NSynthAutoencoder` by name or from a checkpoint path.

  Args:
    name_or_path: 'h512_bo16' (Magenta's published model, downloaded once),
      'h64_bo16' (shipped), a `.tar` of a checkpoint, or anything
      `magenta_wavenet.model.checkpoint.load_checkpoint` reads: a TF1 checkpoint
      prefix or folder, a `save_model` folder, a trainer's logdir, a
      `.keras` file.
    config: Optional `WaveNetConfig` or preset name; inferred by default.
    use_ema: Prefer exponential-moving-average weights where the checkpoint
      holds them (the reference's own tools load the raw ones: False).

  Raises:
    CheckpointError: naming the path or model and the problem.
  """
  return load_checkpoint(model_path(name_or_path), config=config,
                         use_ema=use_ema)


def default_model():
  """The shipped model that scores best, `h64_bo16_pitch`.

  See checkpoints/README.md for how each shipped model was trained and how
  they compare.
  """
  return load_model(DEFAULT_MODEL)


def published_model_path(model):
  """Checkpoint prefix of a published model, fetched on first use.

  Looks in the cache for the unpacked folder, then for the tar (downloaded
  earlier, or put there by hand), and downloads the tar otherwise.
  """
  folder = os.path.join(cache_dir(), model.name)
  prefix = os.path.join(folder, model.member_prefix)
  if os.path.exists(prefix + '.index'):
    return prefix
  tar_path = os.path.join(cache_dir(), model.tar_name)
  if not os.path.isfile(tar_path):
    download(model.url(), tar_path)
  try:
    unpack(tar_path, folder, model.member_prefix, config=model.config)
  except CheckpointError as error:
    raise CheckpointError(f'{error} Removed it from the cache; the next call '
                          'downloads it again.') from error
  finally:
    os.remove(tar_path)
  return prefix


def unpacked_tar(tar_path):
  """Checkpoint prefix inside a user's `.tar`, unpacked once into the cache."""
  stat = os.stat(tar_path)
  key = f'{os.path.abspath(tar_path)}|{stat.st_size}|{stat.st_mtime_ns}'
  stem = os.path.basename(tar_path)[:-len('.tar')]
  folder = os.path.join(cache_dir(), 'unpacked', stem + '-' + hashlib.sha256(
      key.encode()).hexdigest()[:12])
  if not os.path.isdir(folder):
    unpack(tar_path, folder)
  return resolve_prefix(_checkpoint_folder(folder))


def download(url, path):
  """Fetches `url` to `path` (atomically), resuming a cut transfer.

  Args:
    url: The address.
    path: Where the file goes; `path + '.part'` holds a cut transfer.

  Raises:
    CheckpointError: saying where to put the file by hand.
  """
  # Imported here, where it is needed: pooch imports tqdm.auto, which warns
  # on every `import magenta_wavenet` in a notebook without ipywidgets.
  import pooch  # pylint: disable=import-outside-toplevel
  logger.info('Downloading %s to %s.', url, path)
  pooch_logger = pooch.get_logger()
  level = pooch_logger.level
  # pooch's own lines advise its API's arguments, not this package's.
  pooch_logger.setLevel(logging.WARNING)
  try:
    pooch.retrieve(url, known_hash=None, fname=os.path.basename(path),
                   path=os.path.dirname(path),
                   downloader=ResumingDownloader(path + '.part'))
  except (requests.RequestException, OSError) as error:
    reason = (f'HTTP {error.response.status_code}'
              if getattr(error, 'response', None) is not None
              else type(error).__name__)
    raise CheckpointError(
        f'{url}: download failed ({reason}); download it by hand and put it '
        f'at {path}, or pass the .tar path to load_model.') from error
  finally:
    pooch_logger.setLevel(level)


class ResumingDownloader:
  """A pooch downloader that continues a cut transfer where it stopped.

  The bytes received so far stay in `part_path`; each attempt asks the
  server for the rest with an HTTP Range request (a server that ignores it
  sends the whole file again). A progress bar goes to stderr on a terminal.
  """

  def __init__(self, part_path, attempts=3, chunk_bytes=1 << 16,
               timeout_s=30):
    """A cut transfer loses at most its last `chunk_bytes`."""
    self.part_path = part_path
    self.attempts = attempts
    self.chunk_bytes = chunk_bytes
    self.timeout_s = timeout_s

  def __call__(self, url, output_file, pooch_instance, check_only=False):
    del pooch_instance, check_only  # Part of pooch's downloader signature.
    for attempt in range(1, self.attempts + 1):
      try:
        self._fetch_rest(url)
        break
      except (requests.ConnectionError, requests.Timeout,
              requests.exceptions.ChunkedEncodingError) as error:
        logger.warning('%s: transfer cut after %d bytes (%s), attempt %d of '
                       '%d.', url, self._received(), type(error).__name__,
                       attempt, self.attempts)
        if attempt == self.attempts:
          raise
    os.replace(self.part_path, output_file)

  def _received(self):
    return (os.path.getsize(self.part_path)
            if os.path.exists(self.part_path) else 0)

  def _fetch_rest(self, url):
    received = self._received()
    headers = {'Range': f'bytes={received}-'} if received else {}
    with requests.get(url, headers=headers, stream=True,
                      timeout=self.timeout_s) as response:
      if received and response.status_code == 416:
        # Range not satisfiable: the part is no prefix of this file.
        os.remove(self.part_path)
        return self._fetch_rest(url)
      response.raise_for_status()
      if response.status_code != 206:
        received = 0
      remaining = int(response.headers.get('Content-Length', 0)) or None
      total = received + remaining if remaining else None
      with open(self.part_path, 'ab' if received else 'wb') as part, \
          tqdm.tqdm(total=total, initial=received, unit='B',
                    unit_scale=True, desc=os.path.basename(url),
                    disable=None) as progress:
        for chunk in response.iter_content(self.chunk_bytes):
          part.write(chunk)
          progress.update(len(chunk))
    if total is not None and self._received() != total:
      raise requests.exceptions.ChunkedEncodingError(
          f'received {self._received()} of {total} bytes')
    return None


def unpack(tar_path, folder, member_prefix=None, config=None):
  """Extracts a checkpoint tar into `folder`, checked before it appears.

  The archive is extracted into a staging folder (regular files and folders
  only, nothing outside it) and the checkpoint in it is loaded, with
  `config`'s shapes when given; only then is the folder renamed into place.

  Args:
    tar_path: The `.tar`.
    folder: Where the archive's contents go.
    member_prefix: Checkpoint prefix expected inside the archive; by default
      the newest checkpoint found in it.
    config: Preset name or `WaveNetConfig` the weights must fit.

  Raises:
    CheckpointError: for an unreadable archive or a checkpoint that does not
      load (naming the tar).
  """
  def extract(staging):
    try:
      with tarfile.open(tar_path) as archive:
        archive.extractall(staging, filter='data')
    except (tarfile.TarError, OSError, EOFError) as error:
      raise CheckpointError(
          f'{tar_path}: not a readable tar archive '
          f'({type(error).__name__}).') from error
    where = (os.path.join(staging, member_prefix) if member_prefix
             else _checkpoint_folder(staging))
    try:
      load_checkpoint(where, config=config)
    except CheckpointError as error:
      raise CheckpointError(
          f'{tar_path}: holds no usable checkpoint: {error}') from error
  logger.info('Unpacking %s into %s.', tar_path, folder)
  atomic_folder(folder, extract)


def _checkpoint_folder(folder):
  """The folder holding the first `.index` file under `folder`."""
  for root, _, files in sorted(os.walk(folder)):
    if any(name.endswith('.index') for name in files):
      return root
  return folder
