"""Dataset builders: NSynth-format TFRecords from audio files or a SoundFont.

Both write `<folder>/nsynth-<split>-<shard>-of-<shards>.tfrecord` files with
every feature of the NSynth schema, one 4 s note per example.
"""

import logging
import os
import zlib

import numpy as np

from magenta_wavenet.data import schema
from magenta_wavenet.data import soundfont
from magenta_wavenet.data.writer import write_examples
from magenta_wavenet.errors import DataError
from magenta_wavenet.sound.audio import AUDIO_EXTENSIONS
from magenta_wavenet.sound.audio import load_audio

logger = logging.getLogger(__name__)

SPLITS = ('train', 'valid', 'test')


def check_fractions(valid_fraction, test_fraction):
  """Raises DataError unless both shares are >= 0 and sum below 1."""
  if valid_fraction < 0 or test_fraction < 0 or (
      valid_fraction + test_fraction >= 1):
    raise DataError('valid and test fractions must be >= 0 and sum below 1.')


def assign_split(note_str, valid_fraction=0.1, test_fraction=0.1):
  """Deterministic split of a note from a checksum of its name.

  The same name always lands in the same split, whatever else is in the set.

  Returns:
    'train', 'valid' or 'test'.
  """
  check_fractions(valid_fraction, test_fraction)
  position = zlib.crc32(note_str.encode('utf-8')) / 2.0**32
  if position < test_fraction:
    return 'test'
  if position < test_fraction + valid_fraction:
    return 'valid'
  return 'train'


def fit_note(audio, length=schema.NOTE_SAMPLES):
  """Cuts or zero-pads mono audio to `length` samples (one 4 s note)."""
  audio = np.asarray(audio, np.float32)[:length]
  return np.pad(audio, (0, length - audio.shape[0]))


def shard_path(folder, split, shard, num_shards):
  return os.path.join(
      folder, f'nsynth-{split}-{shard:05d}-of-{num_shards:05d}.tfrecord')


def write_splits(folder, notes, num_shards=1, compression=''):
  """Writes (audio, labels) pairs to per-split, sharded TFRecord files.

  Instrument ids are given in sorted order of the instrument names and note
  ids in sorted order of the note names, so they do not depend on the order
  of `notes`.

  Args:
    folder: Output folder (created).
    notes: dict {split: list of (audio [64000] float32, NoteLabels)}.
    num_shards: Files per split; notes go round-robin.
    compression: '' or 'GZIP'.

  Returns:
    dict {split: number of notes written}.
  """
  os.makedirs(folder, exist_ok=True)
  all_labels = [labels for pairs in notes.values() for _, labels in pairs]
  instruments = {name: i for i, name in enumerate(
      sorted({labels.instrument_str for labels in all_labels}))}
  note_ids = {name: i for i, name in enumerate(
      sorted(labels.note_str for labels in all_labels))}
  counts = {}
  for split, pairs in notes.items():
    pairs = sorted(pairs, key=lambda pair: pair[1].note_str)
    for shard in range(num_shards):
      examples = (schema.make_example(audio, schema.NoteLabels(
          labels.instrument_str, labels.pitch, labels.velocity,
          instrument=instruments[labels.instrument_str],
          note=note_ids[labels.note_str]))
                  for audio, labels in pairs[shard::num_shards])
      write_examples(shard_path(folder, split, shard, num_shards), examples,
                     compression)
    counts[split] = len(pairs)
  return counts


def build_from_folder(source_folder, output_folder, valid_fraction=0.1,
                      test_fraction=0.1, num_shards=1, compression=''):
  """NSynth records from a folder of notes named like NSynth's.

  Every audio file under `source_folder` (recursively) must be named
  `<family>_<source>_<NNN>-<pitch>-<velocity>.<ext>`; it is loaded as 16 kHz
  mono and cut or zero-padded to 4 s.

  Returns:
    dict {split: number of notes}.

  Raises:
    DataError: when there is no audio file or a name does not parse;
    AudioError: when a file cannot be read.
  """
  check_fractions(valid_fraction, test_fraction)
  paths = sorted(
      os.path.join(root, name) for root, _, names in os.walk(source_folder)
      for name in names if name.lower().endswith(AUDIO_EXTENSIONS))
  if not paths:
    raise DataError(f'{source_folder}: holds no audio file '
                    f'({", ".join(AUDIO_EXTENSIONS)}).')
  notes = {split: [] for split in SPLITS}
  seen = {}
  for path in paths:
    labels = schema.parse_note_name(path)
    if labels.note_str in seen:
      raise DataError(f'{path}: the same note as {seen[labels.note_str]}.')
    seen[labels.note_str] = path
    split = assign_split(labels.note_str, valid_fraction, test_fraction)
    notes[split].append((fit_note(load_audio(path)), labels))
  return write_splits(output_folder, notes, num_shards, compression)


def soundfont_notes(programs, pitch_range, velocities):
  """The (Program, pitch, velocity) triples a SoundFont build renders.

  Args:
    programs: GM program numbers, keys of `soundfont.GM_PROGRAMS`.
    pitch_range: (lowest, highest) MIDI pitch, inclusive; each program
      keeps only the pitches it can play.
    velocities: MIDI velocities.
  """
  unknown = sorted(set(programs) - set(soundfont.GM_PROGRAMS))
  if unknown:
    raise DataError(f'GM programs {unknown} have no NSynth family here; '
                    f'choose from {sorted(soundfont.GM_PROGRAMS)}.')
  triples = []
  for number in programs:
    program = soundfont.GM_PROGRAMS[number]
    low = max(pitch_range[0], program.lowest)
    high = min(pitch_range[1], program.highest)
    triples += [(program, pitch, velocity) for pitch in range(low, high + 1)
                for velocity in velocities]
  return triples


def build_from_soundfont(output_folder, programs, pitch_range=(36, 84),
                         velocities=(75, 100, 127), pitch_step=1,
                         soundfont_path=soundfont.DEFAULT_SOUNDFONT,
                         valid_fraction=0.1, test_fraction=0.1, num_shards=1,
                         compression='', normalize=True):
  """NSynth records rendered from a SoundFont with FluidSynth.

  Args:
    output_folder: Where the TFRecords go.
    programs: GM program numbers (see `soundfont.GM_PROGRAMS`).
    pitch_range: (lowest, highest) MIDI pitch.
    velocities: MIDI velocities of each pitch.
    pitch_step: Render every `pitch_step`-th pitch of the range.
    soundfont_path: The .sf2 file.
    valid_fraction, test_fraction: Shares of the held-out splits.
    num_shards: Files per split.
    compression: '' or 'GZIP'.
    normalize: Peak-normalize each note (see `soundfont.render_notes`).

  Returns:
    dict {split: number of notes}.
  """
  check_fractions(valid_fraction, test_fraction)  # before minutes of work
  notes = {split: [] for split in SPLITS}
  triples = soundfont_notes(programs, pitch_range, velocities)
  triples = [t for t in triples if (t[1] - pitch_range[0]) % pitch_step == 0]
  if not triples:
    raise DataError(f'no note of programs {list(programs)} lies in pitch '
                    f'range {tuple(pitch_range)}.')
  for number in programs:
    chosen = [(pitch, velocity) for program, pitch, velocity in triples
              if program.number == number]
    if not chosen:
      continue
    clips = soundfont.render_notes(number, chosen, soundfont_path,
                                   normalize=normalize)
    instrument = soundfont.GM_PROGRAMS[number].instrument_str
    for audio, (pitch, velocity) in zip(clips, chosen):
      labels = schema.NoteLabels(instrument, pitch, velocity)
      notes[assign_split(labels.note_str, valid_fraction,
                         test_fraction)].append((audio, labels))
    logger.info('rendered %d notes of GM program %d (%s)', len(chosen), number,
                instrument)
  return write_splits(output_folder, notes, num_shards, compression)
