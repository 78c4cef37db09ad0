"""Measures the NSynth reader's throughput in examples per second.

  python -m magenta_wavenet.data_benchmark --train_path 'data/nsynth-train-*' \
      --batch_size 8 --num_batches 200

Compare it with the `examples/s` of the training progress line: the reader
must be faster, or training waits for data.
"""

import sys
import time

from absl import app
from absl import flags

from magenta_wavenet.data import reader
from magenta_wavenet.errors import MagentaWavenetError

FLAGS = flags.FLAGS
flags.DEFINE_string('train_path', None, 'Glob pattern(s) of TFRecords.')
flags.DEFINE_integer('batch_size', 8, 'Examples per batch.')
flags.DEFINE_integer('num_batches', 200, 'Batches timed (after a warm-up).')
flags.DEFINE_integer('crop_length', reader.TRAIN_CROP, 'Samples per crop.')
flags.DEFINE_boolean('training', True, 'Random crops and shuffling.')
flags.mark_flag_as_required('train_path')


def measure(dataset, batch_size, num_batches, warmup=5):
  """Examples per second of iterating `dataset` for `num_batches` batches."""
  iterator = iter(dataset)
  for _ in range(warmup):
    next(iterator)
  start = time.perf_counter()
  count = 0
  for _ in range(num_batches):
    try:
      count += int(next(iterator)['audio'].shape[0])
    except StopIteration:
      break
  return count / (time.perf_counter() - start)


def main(argv):
  del argv
  try:
    dataset = reader.nsynth_dataset(FLAGS.train_path, FLAGS.batch_size,
                                    training=FLAGS.training,
                                    crop_length=FLAGS.crop_length)
    rate = measure(dataset, FLAGS.batch_size, FLAGS.num_batches)
  except MagentaWavenetError as error:
    sys.exit(f'error: {error}')
  print(f'{rate:.1f} examples/s ({rate / FLAGS.batch_size:.1f} batches/s of '
        f'{FLAGS.batch_size})')


if __name__ == '__main__':
  app.run(main)
