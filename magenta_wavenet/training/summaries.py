"""TensorBoard scalar and audio summaries without the tensorboard package.

`tf.summary.scalar` and `tf.summary.audio` live in the tensorboard package,
which tensorflow-cpu 2.21 no longer installs. These write the same events
with the core op `tf.summary.write` and the plugin metadata TensorBoard reads
(plugin 'scalars'; plugin 'audio' with WAV encoding).
"""

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

# AudioPluginData proto of TensorBoard's audio plugin: field 2 (encoding)
# = 11 (WAV), as a serialized varint.
_AUDIO_PLUGIN_CONTENT = b'\x10\x0b'


def _metadata(plugin, data_class, content=b''):
  return summary_pb2.SummaryMetadata(
      plugin_data=summary_pb2.SummaryMetadata.PluginData(
          plugin_name=plugin, content=content),
      data_class=data_class).SerializeToString()


def scalar(name, value, step=None):
  """Writes a scalar to the default summary writer."""
  return tf.summary.write(
      name, tf.cast(value, tf.float32), step=step,
      metadata=_metadata('scalars', summary_pb2.DATA_CLASS_SCALAR))


def audio(name, clips, sample_rate, step=None):
  """Writes audio clips to the default summary writer.

  Args:
    name: Tag.
    clips: float32 [clips, samples] in [-1, 1].
    sample_rate: Hz.
    step: Summary step.
  """
  clips = tf.clip_by_value(tf.convert_to_tensor(clips, tf.float32), -1.0, 1.0)
  encoded = tf.map_fn(
      lambda clip: tf.audio.encode_wav(clip[:, None], sample_rate), clips,
      fn_output_signature=tf.string)
  labels = tf.fill(tf.shape(encoded), '')
  return tf.summary.write(
      name, tf.stack([encoded, labels], axis=1), step=step,
      metadata=_metadata('audio', summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
                         _AUDIO_PLUGIN_CONTENT))
