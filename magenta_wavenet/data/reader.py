"""A `tf.data` reader of NSynth TFRecords for training and evaluation.

Pipeline: shuffled file list -> parallel interleave of `TFRecordDataset`s
(plain or GZIP, detected per file) -> record shuffle -> batched
`tf.io.parse_example` -> label filters -> crop (random for training, the
reference's centre crop for evaluation) -> batch -> mu-law targets ->
prefetch. Given the same seed the order and the crops are the same in every
run, so a resumed training run can skip the batches it already consumed.

A corrupt or truncated record stops the reader with a `DataError` naming the
file (see `read_error`), or, with `skip_corrupt=True`, each file is scanned
first and only its records before the damage are read; the damage is logged
and counted in `scan_files`' reports.
"""

import dataclasses
import glob
import logging
import os

import tensorflow as tf

from magenta_wavenet.data import schema
from magenta_wavenet.errors import DataError
from magenta_wavenet.sound import dsp

logger = logging.getLogger(__name__)

TRAIN_CROP = 6144
GZIP_MAGIC = b'\x1f\x8b'


def centre_offset(crop_length, note_length=schema.NOTE_SAMPLES):
  """Start of the reference's evaluation crop: (64000 - 6144) // 2 = 28928."""
  return (note_length - crop_length) // 2


def list_files(patterns):
  """Sorted files matching one or more glob patterns (comma-separated).

  Raises:
    DataError: when a pattern matches nothing.
  """
  if isinstance(patterns, str):
    patterns = [p for p in patterns.split(',') if p]
  files = []
  for pattern in patterns:
    matched = sorted(p for p in glob.glob(os.path.expanduser(pattern))
                     if os.path.isfile(p))
    if not matched:
      raise DataError(f'{pattern}: no TFRecord file matches.')
    files += matched
  return sorted(set(files))


def compression_of(path):
  """'GZIP' when the file starts with the gzip magic number, else ''."""
  with open(path, 'rb') as handle:
    return 'GZIP' if handle.read(2) == GZIP_MAGIC else ''


@dataclasses.dataclass(frozen=True)
class FileReport:
  """What `scan_file` found: `records` readable records, then `problem`."""

  path: str
  records: int
  problem: str = ''


def scan_file(path, check_schema=False, audio_length=schema.NOTE_SAMPLES):
  """Reads a TFRecord file record by record to find where it is damaged.

  Args:
    path: The file.
    check_schema: Also parse each record as an NSynth example.
    audio_length: Samples of audio the schema expects.

  Returns:
    A `FileReport`; `problem` is '' for a sound file.
  """
  spec = schema.feature_spec(audio_length)
  records = 0
  try:
    for record in tf.data.TFRecordDataset(path, compression_of(path)):
      if check_schema:
        try:
          tf.io.parse_single_example(record, spec)
        except tf.errors.InvalidArgumentError as error:
          first = str(error).strip().splitlines()[0]
          return FileReport(path, records, f'record {records} is not an '
                            f'NSynth example ({first})')
      records += 1
  except tf.errors.OpError as error:
    reason = error.message.split('}}')[-1].split('[Op:')[0].strip()
    return FileReport(path, records, f'corrupt or truncated after {records} '
                      f'records ({reason})')
  return FileReport(path, records)


def scan_files(files, check_schema=False, audio_length=schema.NOTE_SAMPLES):
  """`scan_file` for each file; returns the list of `FileReport`s."""
  return [scan_file(path, check_schema, audio_length) for path in files]


def read_error(error, files, audio_length=schema.NOTE_SAMPLES):
  """Turns a `tf.errors.OpError` raised while reading into a `DataError`.

  TensorFlow's message says 'corrupted record at 8080' but not which file;
  this scans `files` to name it.

  Returns:
    A `DataError` naming each damaged file and what is wrong with it.
  """
  bad = [report for report in scan_files(files, True, audio_length)
         if report.problem]
  if not bad:
    return DataError(f'reading {len(files)} TFRecord files failed: '
                     f'{error.message.splitlines()[0]}')
  return DataError('; '.join(f'{r.path}: {r.problem}' for r in bad) + '.')


@dataclasses.dataclass(frozen=True)
class NoteFilter:
  """Which notes to keep; None keeps all.

  Attributes:
    pitch_range: (lowest, highest) MIDI pitch kept, inclusive.
    families: Family names (e.g. 'keyboard') or ids to keep.
    sources: Source names ('acoustic', 'electronic', 'synthetic') or ids.
    velocities: MIDI velocities to keep.
  """

  pitch_range: tuple = None
  families: tuple = None
  sources: tuple = None
  velocities: tuple = None

  def __post_init__(self):
    object.__setattr__(self, 'families', _ids(self.families, schema.FAMILIES))
    object.__setattr__(self, 'sources', _ids(self.sources, schema.SOURCES))
    if self.pitch_range is not None:
      low, high = self.pitch_range
      if not 0 <= low <= high <= 127:
        raise DataError(f'pitch range must be 0 <= low <= high <= 127, got '
                        f'{self.pitch_range}.')

  def mask(self, features):
    """Boolean [batch] of the notes to keep, from parsed features."""
    keep = tf.ones_like(features['pitch'], tf.bool)
    if self.pitch_range is not None:
      keep &= (features['pitch'] >= self.pitch_range[0]) & (
          features['pitch'] <= self.pitch_range[1])
    for key, allowed in (('instrument_family', self.families),
                         ('instrument_source', self.sources),
                         ('velocity', self.velocities)):
      if allowed is not None:
        keep &= tf.reduce_any(tf.equal(
            features[key][:, None],
            tf.constant(list(allowed), tf.int64)[None, :]), axis=1)
    return keep


def _ids(values, names):
  """Names or ids -> tuple of ids, or None."""
  if values is None:
    return None
  ids = []
  for value in values:
    if isinstance(value, str) and not value.isdigit():
      if value not in names:
        raise DataError(f'unknown label {value!r}; choose from '
                        f'{", ".join(names)}.')
      ids.append(names.index(value))
    else:
      ids.append(int(value))
  return tuple(ids)


def _records(files, training, seed, skip_corrupt, num_shards, shard_index,
             cycle_length):
  """Dataset of serialized examples, one shard of them, repeated if training."""
  if skip_corrupt:
    reports = scan_files(files)
    for report in reports:
      if report.problem:
        logger.warning('%s: %s; skipping the rest of the file.', report.path,
                       report.problem)
    counts = [report.records for report in reports]
  else:
    counts = [-1] * len(files)
  kinds = [compression_of(path) for path in files]
  table = tf.data.Dataset.from_tensor_slices(
      (files, kinds, tf.constant(counts, tf.int64)))
  shard_files = len(files) >= num_shards
  if shard_files:
    table = table.shard(num_shards, shard_index)
  if training:
    table = table.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    table = table.repeat()
  records = table.interleave(
      lambda path, kind, count: tf.data.TFRecordDataset(path, kind).take(count),
      cycle_length=min(cycle_length, len(files)),
      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  if not shard_files:
    records = records.shard(num_shards, shard_index)
  return records


def nsynth_dataset(file_pattern, batch_size, training=True,
                   crop_length=TRAIN_CROP, note_filter=None, seed=0,
                   shuffle_buffer=256, skip_corrupt=False, num_shards=1,
                   shard_index=0, skip_batches=0, parse_batch=32,
                   cycle_length=8, audio_length=schema.NOTE_SAMPLES):
  """NSynth notes as batches of crops and mu-law targets.

  Args:
    file_pattern: Glob pattern(s) of TFRecord files (comma-separated or a
      list); plain and GZIP files may be mixed.
    batch_size: Examples per batch (per replica when distributed).
    training: Random crops, shuffled and repeated forever; otherwise the
      centre crop of each note once, in file order, last batch kept.
    crop_length: Samples per crop (6,144 as the reference).
    note_filter: Optional `NoteFilter`.
    seed: Seed of the shuffles and the random crops.
    shuffle_buffer: Records in the shuffle buffer (training only).
    skip_corrupt: Scan the files first and read only their undamaged records.
    num_shards: Input pipelines (workers) sharing the data.
    shard_index: This pipeline's index in [0, num_shards).
    skip_batches: Batches to drop first, to resume a training run.
    parse_batch: Records parsed together by one `tf.io.parse_example`.
    cycle_length: Files read at once.
    audio_length: Samples per note in the records.

  Returns:
    A `tf.data.Dataset` of dicts: 'audio' float32 [batch, crop_length] in
    [-1, 1], 'targets' int32 [batch, crop_length] mu-law classes 0..255,
    'pitch', 'velocity', 'instrument_family', 'instrument_source' int64
    [batch], 'note_str' string [batch].

  Raises:
    DataError: when no file matches or the crop is longer than the notes.
  """
  if not 0 < crop_length <= audio_length:
    raise DataError(f'crop_length must be in 1..{audio_length}, got '
                    f'{crop_length}.')
  files = list_files(file_pattern)
  note_filter = note_filter or NoteFilter()
  spec = schema.feature_spec(audio_length)
  records = _records(files, training, seed, skip_corrupt, num_shards,
                     shard_index, cycle_length)
  if training:
    records = records.shuffle(shuffle_buffer, seed=seed,
                              reshuffle_each_iteration=True)
  notes = records.batch(parse_batch).map(
      lambda serialized: tf.io.parse_example(serialized, spec),
      num_parallel_calls=tf.data.AUTOTUNE)
  notes = notes.map(
      lambda features: {key: tf.boolean_mask(value, note_filter.mask(features))
                        for key, value in features.items()}).unbatch()
  max_offset = audio_length - crop_length

  def crop(index, features):
    if training:
      offset = tf.random.stateless_uniform(
          [], seed=tf.stack([tf.cast(seed, tf.int64), index]), minval=0,
          maxval=max_offset + 1, dtype=tf.int64)
    else:
      offset = tf.constant(centre_offset(crop_length, audio_length), tf.int64)
    features = dict(features)
    features['audio'] = features['audio'][offset:offset + crop_length]
    features['audio'].set_shape([crop_length])
    return features

  notes = notes.enumerate().map(crop, num_parallel_calls=tf.data.AUTOTUNE,
                                deterministic=True)
  batches = notes.batch(batch_size, drop_remainder=training)

  def add_targets(features):
    features['targets'] = dsp.to_class(dsp.mu_law_encode(features['audio']))
    return features

  batches = batches.map(add_targets, num_parallel_calls=tf.data.AUTOTUNE)
  if skip_batches:
    batches = batches.skip(skip_batches)
  return batches.prefetch(tf.data.AUTOTUNE)
