"""Files through Apache Beam's `FileSystems`: local paths, gs://, s3://,
hdfs://, whatever file systems the installed Beam has.

`BeamFiles` has the methods of `magenta_wavenet.files.LocalFiles`, so the
batch jobs (`sample_pack`, `codes`) read and write through it unchanged.
"""

import contextlib
import os
import posixpath
import shutil
import tempfile
import uuid

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from magenta_wavenet.errors import MagentaWavenetError

PARTIAL_PREFIX = '.partial-'  # a file being written; renamed when whole
_CHUNK_BYTES = 2**20


def is_local(path):
  """Whether `path` is on this machine's file system (no scheme://)."""
  return '://' not in str(path)


class BeamFiles:
  """Files anywhere Beam reaches, with `LocalFiles`' methods."""

  @staticmethod
  def join(base, *parts):
    """`base`/`parts`, with the separator of `base`'s file system."""
    if is_local(base):
      return os.path.join(base, *parts)
    return posixpath.join(base, *parts)

  @staticmethod
  def exists(path):
    """Whether the file or folder `path` exists."""
    return FileSystems.exists(path)

  @staticmethod
  def makedirs(path):
    """Creates the folder `path` where the file system has folders (object
    stores have none: writing a file makes its prefix)."""
    if is_local(path):
      os.makedirs(path, exist_ok=True)

  @staticmethod
  def read_bytes(path):
    """The bytes of the file `path`."""
    with FileSystems.open(
        path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
      return stream.read()

  @staticmethod
  def write_bytes(path, data):
    """Writes `data` (bytes) to `path`, whole or not at all: to a
    `PARTIAL_PREFIX` file beside it, then renamed onto it."""
    folder, name = os.path.split(path) if is_local(path) else (
        posixpath.split(path))
    partial = BeamFiles.join(
        folder, f'{PARTIAL_PREFIX}{uuid.uuid4().hex}-{name}')
    try:
      with FileSystems.create(
          partial, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
        stream.write(data)
      if not is_local(path) and FileSystems.exists(path):
        FileSystems.delete([path])  # os.rename replaces; stores may not
      FileSystems.rename([partial], [path])
    except BaseException:
      if FileSystems.exists(partial):
        FileSystems.delete([partial])
      raise

  @staticmethod
  @contextlib.contextmanager
  def local_copy(path):
    """Inside: a path on this machine holding the file `path`; itself when
    it is local, else a temporary copy with the same name, deleted after."""
    if is_local(path):
      yield path
      return
    folder = tempfile.mkdtemp(prefix='magenta_wavenet-')
    try:
      local = os.path.join(folder, posixpath.basename(path))
      try:
        with FileSystems.open(
            path, compression_type=CompressionTypes.UNCOMPRESSED) as source, \
            open(local, 'wb') as target:
          shutil.copyfileobj(source, target, _CHUNK_BYTES)
      except Exception as error:  # pylint: disable=broad-except
        # BeamIOError, or an error of the file system's client.
        raise MagentaWavenetError(
            f'{path}: cannot read ({error}).') from None
      yield local
    finally:
      shutil.rmtree(folder, ignore_errors=True)

  @staticmethod
  def match(pattern):
    """Sorted paths of the files matching `pattern` (a glob)."""
    try:
      results = FileSystems.match([pattern])
    except Exception as error:  # pylint: disable=broad-except
      # Beam raises BeamIOError, or an error of the file system's client.
      raise MagentaWavenetError(f'{pattern}: cannot list ({error}).') from None
    return sorted(meta.path for result in results
                  for meta in result.metadata_list)

  @staticmethod
  def list_inputs(source_path, extensions):
    """Input files of a URL, as `cli.common.list_inputs` lists local ones:
    the file itself, the files of a folder (not its subfolders), or a
    glob's files; those ending in one of `extensions`, sorted.

    Raises:
      MagentaWavenetError: when nothing is found.
    """
    if any(char in source_path for char in '*?['):
      found = BeamFiles.match(source_path)
    else:
      found = [path for path in BeamFiles.match(source_path)
               if path.rstrip('/') == source_path.rstrip('/')]
      if not found:
        folder = source_path.rstrip('/') + '/'
        found = [path for path in BeamFiles.match(folder + '*')
                 if '/' not in path[len(folder):]]
    found = [path for path in found
             if path.lower().endswith(tuple(extensions))]
    if not found:
      raise MagentaWavenetError(
          f'{source_path}: no {" or ".join(extensions)} files there.')
    return found

  @staticmethod
  def delete(paths):
    """Deletes the files or folders `paths`."""
    if paths:
      FileSystems.delete(list(paths))


BEAM_FILES = BeamFiles()
