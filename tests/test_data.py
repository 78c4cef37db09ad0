"""NSynth schema, TFRecord writer and tf.data reader."""

import gzip

import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet import data
from magenta_wavenet import speed
from magenta_wavenet.cli import data_benchmark
from magenta_wavenet.data import reader
from magenta_wavenet.data import schema

NAMES = ['keyboard_acoustic_004', 'guitar_electronic_010',
         'flute_synthetic_001']


def ramp_note(index):
  """A note whose samples encode its index and position, for crop checks."""
  position = np.arange(schema.NOTE_SAMPLES, dtype=np.float32)
  return (position / schema.NOTE_SAMPLES * 0.5 + 0.01 * int(index)).astype(
      np.float32)


def note_examples(count=12):
  examples = []
  for index in range(count):
    labels = data.NoteLabels(NAMES[index % 3], 40 + 3 * index,
                             (50, 100)[index % 2], note=index)
    examples.append(data.make_example(ramp_note(index), labels))
  return examples


@pytest.fixture(scope='module')
def records(tmp_path_factory):
  folder = tmp_path_factory.mktemp('records')
  examples = note_examples()
  data.write_examples(str(folder / 'a.tfrecord'), examples[:6])
  data.write_examples(str(folder / 'b.tfrecord.gz'), examples[6:], 'GZIP')
  return folder


def collect(dataset):
  batches = list(dataset)
  return {key: np.concatenate([b[key].numpy() for b in batches])
          for key in batches[0]}


def test_parse_note_name():
  labels = data.parse_note_name('some/dir/keyboard_acoustic_004-060-100.wav')
  assert (labels.instrument_str, labels.pitch, labels.velocity) == (
      'keyboard_acoustic_004', 60, 100)
  assert (labels.family_str, labels.source_str) == ('keyboard', 'acoustic')
  assert data.parse_note_name('synth_lead_synthetic_001-021-127').family_str \
      == 'synth_lead'
  for bad in ('piano_acoustic_004-060-100', 'keyboard_acoustic_004-060',
              'keyboard_acoustic_004-200-100'):
    with pytest.raises(mw.DataError):
      data.parse_note_name(bad)


def test_example_has_the_nsynth_schema():
  labels = data.NoteLabels('reed_acoustic_023', 64, 75, instrument=3, note=9)
  example = data.make_example(ramp_note(0), labels, qualities=('bright',))
  feature = example.features.feature
  assert feature['note_str'].bytes_list.value == [b'reed_acoustic_023-064-075']
  assert feature['instrument_family'].int64_list.value == [7]
  assert feature['instrument_source_str'].bytes_list.value == [b'acoustic']
  assert list(feature['qualities'].int64_list.value) == [1] + [0] * 9
  assert len(feature['audio'].float_list.value) == 64000
  with pytest.raises(mw.DataError, match='64000'):
    data.make_example(np.zeros(100), labels)


def test_gzip_detection(records):
  assert reader.compression_of(str(records / 'a.tfrecord')) == ''
  assert reader.compression_of(str(records / 'b.tfrecord.gz')) == 'GZIP'
  with open(records / 'b.tfrecord.gz', 'rb') as handle:
    gzip.decompress(handle.read())  # really gzip


def test_eval_reads_every_note_once_with_the_centre_crop(records):
  pattern = f'{records}/a.tfrecord,{records}/b.tfrecord.gz'
  batches = collect(reader.nsynth_dataset(pattern, 5, training=False))
  assert sorted(batches['pitch']) == [40 + 3 * i for i in range(12)]
  assert batches['audio'].shape == (12, 6144)
  assert reader.centre_offset(6144) == 28928
  for audio, pitch in zip(batches['audio'], batches['pitch']):
    expected = ramp_note((pitch - 40) // 3)[28928:28928 + 6144]
    np.testing.assert_array_equal(audio, expected)
  np.testing.assert_array_equal(
      batches['targets'],
      mw.sound.dsp.to_class(mw.sound.dsp.mu_law_encode(batches['audio'])).numpy())


def test_training_crops_are_random_and_deterministic(records):
  pattern = str(records / '*')
  first = collect(reader.nsynth_dataset(pattern, 4, seed=3).take(6))
  again = collect(reader.nsynth_dataset(pattern, 4, seed=3).take(6))
  other = collect(reader.nsynth_dataset(pattern, 4, seed=4).take(6))
  np.testing.assert_array_equal(first['audio'], again['audio'])
  assert not np.array_equal(first['audio'], other['audio'])
  starts = set()
  for audio, pitch in zip(first['audio'], first['pitch']):
    note = ramp_note((pitch - 40) // 3)
    start = int(round((audio[0] - note[0]) / 0.5 * 64000))
    np.testing.assert_array_equal(audio, note[start:start + 6144])
    starts.add(start)
  assert len(starts) > 10
  skipped = collect(reader.nsynth_dataset(pattern, 4, seed=3,
                                          skip_batches=2).take(4))
  np.testing.assert_array_equal(skipped['audio'], first['audio'][8:24])


def test_filters(records):
  pattern = str(records / '*')
  def pitches(**kwargs):
    dataset = reader.nsynth_dataset(
        pattern, 2, training=False, note_filter=reader.NoteFilter(**kwargs))
    return sorted(collect(dataset)['pitch'])
  assert pitches(pitch_range=(45, 55)) == [46, 49, 52, 55]
  assert pitches(families=('guitar',)) == [43, 52, 61, 70]
  assert pitches(sources=('synthetic',), velocities=(100,)) == [55, 73]
  with pytest.raises(mw.DataError, match='unknown label'):
    reader.NoteFilter(families=('piano',))


def test_shards_split_the_notes(records):
  pattern = str(records / '*')
  parts = [collect(reader.nsynth_dataset(pattern, 1, training=False,
                                         num_shards=2, shard_index=i))
           for i in range(2)]
  assert sorted(np.concatenate([p['pitch'] for p in parts])) == [
      40 + 3 * i for i in range(12)]


@pytest.fixture
def truncated(records, tmp_path):
  content = open(records / 'a.tfrecord', 'rb').read()
  path = tmp_path / 'truncated.tfrecord'
  path.write_bytes(content[:len(content) - 1000])
  return str(path)


def test_truncated_file_is_an_error_naming_it(truncated):
  dataset = reader.nsynth_dataset(truncated, 2, training=False)
  with pytest.raises(tf.errors.DataLossError) as caught:
    list(dataset)
  error = reader.read_error(caught.value, [truncated])
  assert 'truncated.tfrecord: corrupt or truncated after 5 records' in str(
      error)


def test_truncated_file_skipped_and_counted(truncated, caplog):
  dataset = reader.nsynth_dataset(truncated, 2, training=False,
                                  skip_corrupt=True)
  assert len(collect(dataset)['pitch']) == 5
  assert 'skipping the rest' in caplog.text
  report, = reader.scan_files([truncated])
  assert report.records == 5 and 'truncated' in report.problem


def test_wrong_schema_is_named(tmp_path):
  path = str(tmp_path / 'short.tfrecord')
  example = tf.train.Example(features=tf.train.Features(feature={
      'audio': tf.train.Feature(float_list=tf.train.FloatList(value=[0.0]))}))
  data.write_examples(path, [example])
  with pytest.raises(tf.errors.InvalidArgumentError) as caught:
    list(reader.nsynth_dataset(path, 1, training=False))
  assert 'short.tfrecord: record 0 is not an NSynth example' in str(
      reader.read_error(caught.value, [path]))


def test_missing_files_and_bad_crop(tmp_path):
  with pytest.raises(mw.DataError, match='no TFRecord file matches'):
    reader.nsynth_dataset(str(tmp_path / 'none-*'), 1)
  with pytest.raises(mw.DataError, match='crop_length'):
    reader.nsynth_dataset(str(tmp_path / 'none-*'), 1, crop_length=70000)


def test_benchmark_prints_examples_per_second(records, capsys,
                                              monkeypatch):
  clock = iter([10.0, 12.0])  # The timed loop takes 2 s.
  monkeypatch.setattr(speed.time, 'perf_counter',
                      lambda: next(clock))
  assert data_benchmark.main(['data_benchmark', '--train_path',
                              str(records / '*'), '--batch_size', '4',
                              '--num_batches', '10']) == 0
  # Ten batches of four examples in 2 s.
  assert capsys.readouterr().out.strip() == (
      '20.0 examples/s (5.0 batches/s of 4)')
