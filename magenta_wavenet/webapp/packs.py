"""The studio's sample packs: `<folder>/<pack id>/`, one per render setting.

A pack's id is a hash of everything that decides its notes (sources,
points, pitches, note length, seed, model, harmonic filter, retry of the
notes off their pitch, expected values), so asking again for a pack already
rendered reuses it, and an interrupted one is completed
(`sample_pack.render_pack` resumes). Beside the pack's own files,
`studio.json` records the source names shown on the page. Only regular files
are served, listed or zipped: a link or folder put in a pack's place is
skipped.
"""

import hashlib
import json
import os
import re
import tempfile
import zipfile

from magenta_wavenet import sample_pack
from magenta_wavenet.files import atomic_write
from magenta_wavenet.webapp import ids

STUDIO_FILE = 'studio.json'
SAMPLE_NAME = re.compile(r'p\d+_\d+_m\d{3}\.wav')
ZIP_SPOOL_BYTES = 16 * 2**20  # larger zips spill to a temporary file


def pack_id(settings, model_name, shifted_sources=False):
  """The id of the pack of `settings` rendered by `model_name`.

  Args:
    settings: The checked render settings (`renders.check_settings`), the
      harmonic filter, the retry of notes off their pitch and the expected
      values among them. Only a filter that is not 0 and a retry or
      expected values that are on are there, so that the ids of packs
      without them stay as they were.
    model_name: The model's name or path.
    shifted_sources: Whether the model is pitch-conditioned, whose packs
      now encode their sources shifted to each pitch
      (`sample_pack.note_codes`); part of the id when True, so that a pack
      rendered before is not taken for one rendered now.

  Returns:
    32 hex digits.
  """
  decided = {'settings': settings, 'model': model_name}
  if shifted_sources:
    decided['shifted_sources'] = True
  text = json.dumps(decided, sort_keys=True)
  return hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


class Packs:
  """The pack folders under `folder` (created)."""

  def __init__(self, folder):
    self.folder = folder
    os.makedirs(folder, exist_ok=True)

  def path(self, pack):
    """The folder of a pack id (it may not exist yet).

    Raises:
      ids.NotFound: for a malformed id.
    """
    return ids.child(self.folder, ids.check_id(pack, 'pack'))

  def write_names(self, pack, source_names):
    """Creates the pack's folder and records its sources' shown names."""
    folder = self.path(pack)
    os.makedirs(folder, exist_ok=True)

    def write(temporary):
      with open(temporary, 'w', encoding='utf-8') as stream:
        json.dump({'source_names': list(source_names)}, stream)
    atomic_write(os.path.join(folder, STUDIO_FILE), write)

  def is_complete(self, pack):
    """Whether the pack is fully rendered."""
    manifest = os.path.join(self.path(pack), sample_pack.MANIFEST)
    return (ids.is_regular_file(manifest)
            and sample_pack.read_manifest(manifest)['complete'])

  def notes_written(self, pack, notes):
    """How many of `notes` (paths inside the pack, `sample_pack.sample_path`)
    are written."""
    folder = self.path(pack)
    return sum(ids.is_regular_file(os.path.join(folder, note))
               for note in notes)

  def info(self, pack):
    """What the player needs of a pack.

    Returns:
      dict: id, complete, sources (shown names), rows, cols, pitches,
      note_seconds, sample_rate, harmonic_filter_db (0 for none),
      retry_off_pitch (whether notes off their pitch were retried),
      expected_value (whether the samples are expected values), samples
      (file names, in `plan_notes` order).

    Raises:
      ids.NotFound: when no pack has that id.
    """
    folder = self.path(pack)
    manifest_path = os.path.join(folder, sample_pack.MANIFEST)
    if not ids.is_regular_file(manifest_path):
      raise ids.NotFound('no such pack.')
    manifest = sample_pack.read_manifest(manifest_path)
    try:
      with open(os.path.join(folder, STUDIO_FILE), encoding='utf-8') as f:
        names = json.load(f)['source_names']
    except (OSError, ValueError, KeyError):
      names = [source['name'] for source in manifest['sources']]
    return {
        'id': pack, 'complete': manifest['complete'], 'sources': names,
        'rows': manifest['grid']['rows'], 'cols': manifest['grid']['cols'],
        'pitches': manifest['pitches'],
        'note_seconds': manifest['note_seconds'],
        'sample_rate': manifest['sample_rate'],
        'harmonic_filter_db': manifest.get('harmonic_filter_db', 0.0),
        'retry_off_pitch': manifest.get('retry_off_pitch', False),
        'expected_value': manifest.get('expected_value', False),
        'samples': [os.path.basename(name) for name in manifest['samples']],
    }

  def listing(self):
    """`info` of every complete pack, newest first."""
    packs = [name for name in os.listdir(self.folder)
             if ids.ID_PATTERN.fullmatch(name)
             and ids.is_real_folder(os.path.join(self.folder, name))
             and ids.is_regular_file(os.path.join(self.folder, name,
                                                  sample_pack.MANIFEST))]
    packs.sort(key=lambda name: os.path.getmtime(
        os.path.join(self.folder, name, sample_pack.MANIFEST)), reverse=True)
    return [info for info in map(self.info, packs) if info['complete']]

  def sample(self, pack, name):
    """The file of one of a pack's notes ('p0_1_m060.wav').

    Raises:
      ids.NotFound: for a name that is not one of the pack's notes, or one
        not written yet (the pack is rendering).
    """
    if not SAMPLE_NAME.fullmatch(name) or name not in self.info(
        pack)['samples']:
      raise ids.NotFound('no such sample.')
    samples = os.path.join(self.path(pack), sample_pack.SAMPLES)
    if not ids.is_regular_file(os.path.join(samples, name)):
      raise ids.NotFound(f'{name} is not rendered yet.')
    return ids.child(samples, name)

  def zipped(self, pack):
    """A complete pack as a zip, in a file object at its start.

    Members are `<pack id>/manifest.json`, `<pack id>/p*.sfz`,
    `<pack id>/samples/*.wav` and `<pack id>/studio.json`, stored without
    compression (16-bit WAVs hardly shrink); only regular files, never what
    a link points to.

    Raises:
      ids.NotFound: for a missing or unfinished pack.
    """
    if not self.info(pack)['complete']:
      raise ids.NotFound('the pack is not rendered yet.')
    folder = self.path(pack)
    spool = tempfile.SpooledTemporaryFile(max_size=ZIP_SPOOL_BYTES)
    with zipfile.ZipFile(spool, 'w', zipfile.ZIP_STORED) as archive:
      for root, _, names in sorted(os.walk(folder)):
        for name in sorted(names):
          path = os.path.join(root, name)
          # Skips atomic writes' temporary files, links and anything else
          # that is not a regular file.
          if name.startswith('.') or not ids.is_regular_file(path):
            continue
          archive.write(path, os.path.join(
              pack, os.path.relpath(path, folder)))
    spool.seek(0)
    return spool
