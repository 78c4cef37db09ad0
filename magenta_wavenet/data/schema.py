"""The NSynth TFRecord schema: feature names, label vocabularies, note names.

Pure Python plus `tf.train.Example` building; no dataset logic. NSynth names a
note `<family>_<source>_<NNN>-<pitch>-<velocity>`, e.g.
`keyboard_acoustic_004-060-100`: instrument `keyboard_acoustic_004`, MIDI pitch
60, MIDI velocity 100.
"""

import dataclasses
import re

import numpy as np
import tensorflow as tf

from magenta_wavenet.errors import DataError
from magenta_wavenet.sound.audio import SAMPLE_RATE

NOTE_SAMPLES = 64000  # 4 s: held 3 s, released 1 s
FAMILIES = ('bass', 'brass', 'flute', 'guitar', 'keyboard', 'mallet', 'organ',
            'reed', 'string', 'synth_lead', 'vocal')
SOURCES = ('acoustic', 'electronic', 'synthetic')
QUALITIES = ('bright', 'dark', 'distortion', 'fast_decay', 'long_release',
             'multiphonic', 'nonlinear_env', 'percussive', 'reverb',
             'tempo-synced')
_NOTE_NAME = re.compile(
    r'^(?P<instrument>(?P<family>' + '|'.join(FAMILIES) + r')_(?P<source>'
    + '|'.join(SOURCES) + r')_(?P<number>\d+))-(?P<pitch>\d{1,3})'
    r'-(?P<velocity>\d{1,3})$')


@dataclasses.dataclass(frozen=True)
class NoteLabels:
  """Labels of one NSynth note.

  Attributes:
    instrument_str: e.g. 'keyboard_acoustic_004'.
    pitch: MIDI note number, 0..127.
    velocity: MIDI velocity, 1..127.
    instrument: Integer instrument id (unique per instrument_str in a set).
    note: Integer note id (unique in a set).
  """

  instrument_str: str
  pitch: int
  velocity: int
  instrument: int = 0
  note: int = 0

  def __post_init__(self):
    match = re.fullmatch(r'(' + '|'.join(FAMILIES) + r')_('
                         + '|'.join(SOURCES) + r')_\d+', self.instrument_str)
    if not match:
      raise DataError(
          f'instrument {self.instrument_str!r} is not <family>_<source>_<NNN> '
          f'with a family in {", ".join(FAMILIES)} and a source in '
          f'{", ".join(SOURCES)}.')
    if not 0 <= self.pitch <= 127 or not 1 <= self.velocity <= 127:
      raise DataError(f'{self.note_str}: pitch must be 0..127 and velocity '
                      '1..127.')

  @property
  def family_str(self):
    return re.match(r'(.+)_(' + '|'.join(SOURCES) + r')_\d+$',
                    self.instrument_str).group(1)

  @property
  def source_str(self):
    return self.instrument_str[len(self.family_str) + 1:].rsplit('_', 1)[0]

  @property
  def note_str(self):
    return f'{self.instrument_str}-{self.pitch:03d}-{self.velocity:03d}'


def parse_note_name(name):
  """Labels from an NSynth note name such as 'keyboard_acoustic_004-060-100'.

  Args:
    name: The note name, with or without a folder and file extension.

  Returns:
    A `NoteLabels` (instrument and note ids left 0).

  Raises:
    DataError: when the name does not follow the pattern.
  """
  stem = re.sub(r'\.[A-Za-z0-9]+$', '', str(name).replace('\\', '/')
                .rsplit('/', 1)[-1])
  match = _NOTE_NAME.match(stem)
  if not match:
    raise DataError(
        f'{name}: the file name is not an NSynth note name '
        '<family>_<source>_<NNN>-<pitch>-<velocity> (e.g. '
        'keyboard_acoustic_004-060-100).')
  return NoteLabels(instrument_str=match.group('instrument'),
                    pitch=int(match.group('pitch')),
                    velocity=int(match.group('velocity')))


def _int64(values):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def _bytes(values):
  return tf.train.Feature(bytes_list=tf.train.BytesList(
      value=[value.encode('utf-8') for value in values]))


def make_example(audio, labels, qualities=()):
  """Builds one NSynth `tf.train.Example`.

  Args:
    audio: float32 [64000] mono samples at 16 kHz in [-1, 1].
    labels: `NoteLabels` of the note.
    qualities: Names of the set quality flags (from `QUALITIES`).

  Returns:
    A `tf.train.Example` with every feature of the NSynth schema.

  Raises:
    DataError: when the audio is not 64,000 finite samples or a quality is
      unknown.
  """
  audio = np.asarray(audio, np.float32)
  if audio.shape != (NOTE_SAMPLES,) or not np.all(np.isfinite(audio)):
    raise DataError(f'{labels.note_str}: audio must be {NOTE_SAMPLES} finite '
                    f'samples, got shape {list(audio.shape)}.')
  unknown = sorted(set(qualities) - set(QUALITIES))
  if unknown:
    raise DataError(f'{labels.note_str}: unknown qualities {unknown}.')
  feature = {
      'note': _int64([labels.note]),
      'note_str': _bytes([labels.note_str]),
      'instrument': _int64([labels.instrument]),
      'instrument_str': _bytes([labels.instrument_str]),
      'pitch': _int64([labels.pitch]),
      'velocity': _int64([labels.velocity]),
      'sample_rate': _int64([SAMPLE_RATE]),
      'audio': tf.train.Feature(float_list=tf.train.FloatList(value=audio)),
      'qualities': _int64([int(q in qualities) for q in QUALITIES]),
      'qualities_str': _bytes([q for q in QUALITIES if q in qualities]),
      'instrument_family': _int64([FAMILIES.index(labels.family_str)]),
      'instrument_family_str': _bytes([labels.family_str]),
      'instrument_source': _int64([SOURCES.index(labels.source_str)]),
      'instrument_source_str': _bytes([labels.source_str]),
  }
  return tf.train.Example(features=tf.train.Features(feature=feature))


def feature_spec(audio_length=NOTE_SAMPLES):
  """`tf.io.parse_example` spec of the features the reader uses."""
  return {
      'audio': tf.io.FixedLenFeature([audio_length], tf.float32),
      'note_str': tf.io.FixedLenFeature([], tf.string),
      'pitch': tf.io.FixedLenFeature([], tf.int64),
      'velocity': tf.io.FixedLenFeature([], tf.int64),
      'instrument_family': tf.io.FixedLenFeature([], tf.int64),
      'instrument_source': tf.io.FixedLenFeature([], tf.int64),
  }
