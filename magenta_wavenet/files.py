"""Writing files and folders atomically: complete, or not there at all.

`LocalFiles` is the file system as the batch jobs (sample packs, codes) use
it; a distributed run passes its own object with the same methods
(`magenta_wavenet.beam.files.BeamFiles`), for paths such as gs://...
"""

import contextlib
import os
import shutil
import tempfile


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


def atomic_write(path, write_fn):
  """Calls `write_fn(temporary_path)`, then renames the result onto `path`.

  Readers never see a half-written file: an interrupted write leaves the old
  file (or none). The temporary file sits beside `path`, so the rename stays
  on one file system, and gets the permissions a plain `open` would give.

  Raises:
    OSError: when the folder does not exist or is not writable.
  """
  path = os.fspath(path)
  folder = os.path.dirname(os.path.abspath(path))
  suffix = os.path.splitext(path)[1]
  handle, temporary = tempfile.mkstemp(prefix='.partial-', suffix=suffix,
                                       dir=folder)
  os.close(handle)
  try:
    write_fn(temporary)
    os.chmod(temporary, 0o666 & ~_umask())
    os.replace(temporary, path)
  except BaseException:
    if os.path.exists(temporary):
      os.remove(temporary)
    raise


def atomic_folder(folder, write_fn):
  """Calls `write_fn(staging_folder)`, then puts the result at `folder`.

  An existing `folder` is replaced only once the new one is complete; an
  interrupted write leaves the old folder (or none) and no staging folder.

  Raises:
    OSError: when the parent folder cannot be created or written.
  """
  folder = os.path.abspath(os.fspath(folder))
  parent = os.path.dirname(folder)
  os.makedirs(parent, exist_ok=True)
  staging = tempfile.mkdtemp(prefix='.partial-', dir=parent)
  try:
    write_fn(staging)
    os.chmod(staging, 0o777 & ~_umask())
    if os.path.isdir(folder):
      shutil.rmtree(folder)
    os.replace(staging, folder)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise


class LocalFiles:
  """This machine's files, with the methods the batch jobs call.

  Every write is atomic (`atomic_write`), so a killed job leaves whole
  files or none, and a rerun can trust what it finds.
  """

  join = staticmethod(os.path.join)
  exists = staticmethod(os.path.exists)

  @staticmethod
  def makedirs(path):
    """Creates the folder `path` and its parents, where missing."""
    os.makedirs(path, exist_ok=True)

  @staticmethod
  def read_bytes(path):
    """The bytes of the file `path`."""
    with open(path, 'rb') as stream:
      return stream.read()

  @staticmethod
  def write_bytes(path, data):
    """Writes `data` (bytes) to `path`, atomically."""
    def write(temporary):
      with open(temporary, 'wb') as stream:
        stream.write(data)
    atomic_write(path, write)

  @staticmethod
  @contextlib.contextmanager
  def local_copy(path):
    """Inside: a path on this machine holding the file `path` (itself)."""
    yield path


LOCAL = LocalFiles()
