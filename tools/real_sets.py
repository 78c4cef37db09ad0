r"""Evaluation sets of real recorded notes, for `tools.compare_models`.

Reads every audio file under --input_dir (any format `load_audio` reads,
recursively) and writes <--output>.npy, float32 [notes, --note_samples]:
each note 16 kHz mono from its start, cut or zero-padded, scaled to a peak
of `compare_models.REAL_PEAK`; and <--output>.json: {'set': --name,
'notes': [{'name': its path under --input_dir with '_' for '/' and no
extension, 'pitch': MIDI, 'pitch_from': 'name' or 'pyin', 'file'}, ...]}.
`python -m tools.compare_models --real_notes <output>.npy --real_labels
<output>.json` scores models on them.

A note's pitch is the one its file name gives (GrandOrgue's `055-G`, a MIDI
number and its note name, or an NSynth note name), unless pYIN's
(`pitch.note_pitch`) is more than a semitone away: such a note is left out
and logged (an organ's 2' stop names its key, two octaves below what it
sounds). A file whose name gives no pitch takes pYIN's. --pitches keeps only
the notes of those MIDI pitches, so that several instruments share each
pitch, as the instrument identification needs.

These sets are for evaluation only: never put them in a training set.

The GrandOrgue demo organ (Debian `grandorgue-demo` 3.9.5-1, GPL-2+ or
CC-BY-SA-2.5, recorded pipes by Lars Palo) holds seven stops, each pipe a
WavPack file inside a ZIP archive (`wvunpack` is Debian `wavpack`):

  apt-get download grandorgue-demo && dpkg -x grandorgue-demo_*.deb gd
  python -m zipfile -e gd/usr/share/GrandOrgue/packages/*.orgue organ
  rm -r organ/Images organ/Sounds
  for f in organ/*/*.wav; do wvunpack -q -y "$f" -o "$f.tmp" && \
      mv "$f.tmp" "$f"; done
  python -m tools.real_sets --input_dir organ --pitches 55,67 \
      --name 'GrandOrgue demo organ' --output real/organ
"""

import json
import logging
import os
import re

from absl import flags
import numpy as np

from magenta_wavenet.cli import common
from magenta_wavenet.data import builders
from magenta_wavenet.data import schema
from magenta_wavenet.errors import DataError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import atomic_write
from magenta_wavenet.sound.audio import AUDIO_EXTENSIONS
from magenta_wavenet.sound.audio import import_librosa
from magenta_wavenet.sound.audio import load_audio
from magenta_wavenet.sound.pitch import note_pitch
from tools.compare_models import REAL_PEAK

logger = logging.getLogger(__name__)

FLAGS = common.new_flags()
flags.DEFINE_string('input_dir', '', 'Folder of recorded notes.',
                    flag_values=FLAGS)
flags.DEFINE_string('output', '', 'Path of the set without extension: '
                    '<output>.npy and <output>.json are written.',
                    flag_values=FLAGS)
flags.DEFINE_string('name', 'real notes', 'The set\'s name in tables.',
                    flag_values=FLAGS)
flags.DEFINE_list('pitches', None, 'MIDI pitches kept (all by default).',
                  flag_values=FLAGS)
flags.DEFINE_integer('note_samples', schema.NOTE_SAMPLES, 'Samples kept of '
                     'each note, from its start.', lower_bound=1,
                     flag_values=FLAGS)

# A MIDI number and its note name, as GrandOrgue names pipes: '055-G'.
_NUMBERED_NOTE = re.compile(r'(?<!\d)(\d{1,3})-([A-G][#b]?)$')
MAX_PITCH_DISAGREEMENT = 1  # Semitones between a file name's pitch and pYIN's


def name_pitch(path):
  """The MIDI pitch a note's file name gives, or None.

  Args:
    path: A file name such as 'Gamba8/055-G.wav' (a MIDI number and its
      note name) or 'organ_acoustic_001-055-100.wav' (NSynth's).

  Returns:
    int, or None when the name gives no pitch or a number that its note
    name contradicts.
  """
  stem = os.path.splitext(os.path.basename(path))[0]
  match = _NUMBERED_NOTE.search(stem)
  if match:
    number = int(match.group(1))
    name_class = import_librosa().note_to_midi(match.group(2) + '0') % 12
    return number if number <= 127 and number % 12 == name_class else None
  try:
    return schema.parse_note_name(stem).pitch
  except DataError:
    return None


def make_set(folder, pitches=None, note_samples=schema.NOTE_SAMPLES):
  """The notes of a folder of recordings, pitched and cut.

  Args:
    folder: Folder of audio files (recursively).
    pitches: MIDI pitches kept, or None for all.
    note_samples: Samples kept of each note, from its start.

  Returns:
    (audio float32 [notes, note_samples] with peaks of REAL_PEAK, a list of
    {'name', 'pitch', 'pitch_from' ('name' or 'pyin'), 'file'} per note,
    the .json's 'notes'),
    in sorted order of the files.

  Raises:
    DataError: when no note is kept.
  """
  paths = sorted(
      os.path.relpath(os.path.join(root, name), folder)
      for root, _, names in os.walk(folder)
      for name in names if name.lower().endswith(AUDIO_EXTENSIONS))
  notes, audio = [], []
  for path in paths:
    named = name_pitch(path)
    if pitches is not None and named is not None and named not in pitches:
      continue
    note = builders.fit_note(load_audio(os.path.join(folder, path)),
                             note_samples)
    heard = note_pitch(note, source=path)
    if named is not None and abs(heard - named) > MAX_PITCH_DISAGREEMENT:
      logger.warning('%s: left out: its name gives MIDI %d, pYIN hears %d.',
                     path, named, heard)
      continue
    pitch = heard if named is None else named
    if pitches is not None and pitch not in pitches:
      continue
    notes.append({'name': os.path.splitext(path)[0].replace(os.sep, '_'),
                  'pitch': pitch,
                  'pitch_from': 'pyin' if named is None else 'name',
                  'file': path})
    audio.append(note * REAL_PEAK / max(np.max(np.abs(note)), 1e-9))
  if not notes:
    raise DataError(f'{folder}: no note kept.')
  return np.stack(audio).astype(np.float32), notes


def _body(flag_values):
  if not flag_values.input_dir or not flag_values.output:
    raise MagentaWavenetError('--input_dir and --output are required.')
  try:
    pitches = (None if flag_values.pitches is None else
               {int(pitch) for pitch in flag_values.pitches})
  except ValueError:
    raise MagentaWavenetError(
        f'--pitches must be MIDI numbers, got '
        f'{",".join(flag_values.pitches)}.') from None
  audio, notes = make_set(flag_values.input_dir, pitches,
                          flag_values.note_samples)
  folder = os.path.dirname(flag_values.output)
  if folder:
    common.make_folder(folder)
  atomic_write(flag_values.output + '.npy',
               lambda path: np.save(path, audio, allow_pickle=False))
  def write(path):
    with open(path, 'w') as handle:
      json.dump({'set': flag_values.name, 'notes': notes}, handle,
                indent=2)
  atomic_write(flag_values.output + '.json', write)
  for note in notes:
    print(f'{note["name"]}: MIDI {note["pitch"]} ({note["pitch_from"]})')
  print(f'{len(notes)} notes of {audio.shape[1]} samples: '
        f'{flag_values.output}.npy, {flag_values.output}.json')


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
