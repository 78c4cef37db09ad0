r"""Measures the NSynth reader's throughput in examples per second.

  python -m magenta_wavenet data_benchmark --train_path 'data/nsynth-train-*' \
      --batch_size 8 --num_batches 200

Compare it with the `examples/s` of the training progress line: the reader
must be faster, or training waits for data.
"""

from absl import flags

from magenta_wavenet import speed
from magenta_wavenet.cli import common
from magenta_wavenet.data import reader
from magenta_wavenet.errors import MagentaWavenetError

FLAGS = common.new_flags()
flags.DEFINE_string('train_path', None, 'Glob pattern(s) of TFRecords.',
                    flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 8, 'Examples per batch.', lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_integer('num_batches', 200, 'Batches timed (after a warm-up).',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('crop_length', reader.TRAIN_CROP, 'Samples per crop.',
                     flag_values=FLAGS)
flags.DEFINE_boolean('training', True, 'Random crops and shuffling.',
                     flag_values=FLAGS)


def _body(flag_values):
  if not flag_values.train_path:
    raise MagentaWavenetError('--train_path is required.')
  dataset = reader.nsynth_dataset(flag_values.train_path,
                                  flag_values.batch_size,
                                  training=flag_values.training,
                                  crop_length=flag_values.crop_length)
  rate = speed.examples_per_second(dataset, flag_values.num_batches)
  print(f'{rate:.1f} examples/s ({rate / flag_values.batch_size:.1f} '
        f'batches/s of {flag_values.batch_size})')


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
