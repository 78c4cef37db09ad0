"""Writing NSynth examples to TFRecord files, atomically."""

import tensorflow as tf

from magenta_wavenet.files import atomic_write


def write_examples(path, examples, compression=''):
  """Writes `tf.train.Example`s to one TFRecord file.

  The file appears complete or not at all (see `files.atomic_write`).

  Args:
    path: Destination file.
    examples: Iterable of `tf.train.Example`.
    compression: '' for plain records, 'GZIP' for gzip-compressed ones.

  Returns:
    The number of examples written.
  """
  count = [0]

  def write(temporary):
    with tf.io.TFRecordWriter(temporary, options=compression or None) as out:
      for example in examples:
        out.write(example.SerializeToString())
        count[0] += 1

  atomic_write(path, write)
  return count[0]
