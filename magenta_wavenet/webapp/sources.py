"""The sounds the studio mixes: the bundled notes and validated uploads.

An upload is accepted only when it decodes (`audio.load_audio`) to at least
`MIN_SECONDS` and at most `max_seconds` of finite audio; it is then stored
as a 16 kHz mono WAV at `<folder>/<id>.wav`, written atomically, with its
file name in `<id>.json`. A text file named `.wav`, an empty, too short or
too long file, or NaN audio is refused with one message and nothing is
written. The length limit is the decoded one, read from the file's header
before decoding and kept while decoding: a few hundred KB of compressed
silence can otherwise unpack into hours of samples. Ids are the server's
(`ids.new_id`), never a name from the client, and only regular files count:
a link or folder named like an upload is not one.
"""

import json
import os
import tempfile

from magenta_wavenet.errors import AudioError
from magenta_wavenet.files import atomic_write
from magenta_wavenet.sound import audio as audio_lib
from magenta_wavenet.webapp import ids

MIN_SECONDS = 0.1  # longer than one hop of every model (512 samples)
DEFAULT_MAX_SECONDS = 30.0
NAME_CHARACTERS = 80  # an upload's file name is cut to this for display


class TooLarge(AudioError):
  """An upload is over the size limit (HTTP 413)."""


def bundled_names():
  """Names of the bundled sounds ('nsynth_a1', ...), sorted."""
  return sorted(name[:-4] for name in os.listdir(audio_lib.SOUNDS_DIR)
                if name.endswith('.wav'))


def display_name(file_name):
  """A client's file name as shown on the page: its last path part without
  leading dots, cut to `NAME_CHARACTERS`."""
  name = os.path.basename(str(file_name).replace('\\', '/')).strip(
      ).lstrip('.')
  return name[:NAME_CHARACTERS] or 'upload'


class Sources:
  """Bundled sounds (id: their name) and uploads (id: 32 hex digits).

  Args:
    folder: Where uploads are stored (created).
    max_bytes: Largest upload accepted, in bytes.
    max_seconds: Longest upload accepted once decoded, in seconds.
    sample_rate: Rate uploads are decoded and stored at, Hz.
  """

  def __init__(self, folder, max_bytes, max_seconds=DEFAULT_MAX_SECONDS,
               sample_rate=audio_lib.SAMPLE_RATE):
    self.folder = folder
    self.max_bytes = max_bytes
    self.max_seconds = max_seconds
    self.sample_rate = sample_rate
    os.makedirs(folder, exist_ok=True)

  def listing(self):
    """[{'id', 'name', 'kind'}]: bundled sounds, then uploads by age."""
    bundled = [{'id': name, 'name': name, 'kind': 'bundled'}
               for name in bundled_names()]
    uploads = sorted(
        (name[:-4] for name in os.listdir(self.folder)
         if name.endswith('.wav') and ids.ID_PATTERN.fullmatch(name[:-4])
         and ids.is_regular_file(os.path.join(self.folder, name))),
        key=lambda upload: os.lstat(
            os.path.join(self.folder, upload + '.wav')).st_mtime)
    return bundled + [{'id': upload, 'name': self.name(upload),
                       'kind': 'upload'} for upload in uploads]

  def path(self, source_id):
    """The WAV of a source id.

    Raises:
      ids.NotFound: for anything but a bundled name or a stored upload.
    """
    if source_id in bundled_names():
      return audio_lib.bundled_sound(source_id)
    source_id = ids.check_id(source_id, 'sound')
    if not ids.is_regular_file(os.path.join(self.folder, source_id + '.wav')):
      raise ids.NotFound('no such sound.')
    return self._file(source_id, '.wav')

  def name(self, source_id):
    """The name shown for a source: a bundled name or the upload's file."""
    if source_id in bundled_names():
      return source_id
    self.path(source_id)
    try:
      with open(self._file(source_id, '.json'), encoding='utf-8') as stream:
        return json.load(stream)['name']
    except (OSError, ValueError, KeyError):
      return source_id

  def add(self, data, file_name):
    """Validates an upload's bytes and stores them; returns its listing row.

    Args:
      data: The file's bytes (at most `max_bytes`; the caller stops reading
        past that).
      file_name: The client's name for it, for display and messages only.

    Raises:
      AudioError: naming the file: too large (`TooLarge`), too long
        (`AudioTooLong`), empty, not decodable, NaN or infinite samples, or
        shorter than `MIN_SECONDS`.
      OSError: when the folder cannot be written (a full or read-only
        disk); nothing is left behind.
    """
    name = display_name(file_name)
    if len(data) > self.max_bytes:
      raise self.too_large(file_name)
    if not data:
      raise AudioError(f'{name}: the file is empty.')
    samples = self._decode(data, name)
    upload = ids.new_id()

    def write_name(temporary):
      with open(temporary, 'w', encoding='utf-8') as stream:
        json.dump({'name': name}, stream)
    atomic_write(self._file(upload, '.json'), write_name)
    try:
      audio_lib.save_wav(self._file(upload, '.wav'), samples,
                         self.sample_rate)
    except BaseException:
      os.remove(self._file(upload, '.json'))
      raise
    return {'id': upload, 'name': name, 'kind': 'upload'}

  def too_large(self, file_name):
    """The `TooLarge` error of an upload named `file_name`."""
    return TooLarge(f'{display_name(file_name)}: too large: more than '
                    f'{self.max_bytes / 2**20:g} MB.')

  def _decode(self, data, name):
    """float32 [samples] of an upload's bytes, decoded from a temporary file
    that is removed again; messages name the client's file."""
    handle, temporary = tempfile.mkstemp(prefix='.upload-', dir=self.folder)
    try:
      with os.fdopen(handle, 'wb') as stream:
        stream.write(data)
      return audio_lib.load_audio(
          temporary, self.sample_rate,
          min_samples=int(MIN_SECONDS * self.sample_rate),
          max_seconds=self.max_seconds)
    except AudioError as error:
      raise type(error)(str(error).replace(temporary, name)) from None
    finally:
      os.remove(temporary)

  def _file(self, upload, extension):
    return ids.child(self.folder, upload + extension)
