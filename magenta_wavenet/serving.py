r"""Exports a model as a TensorFlow SavedModel for serving without this package.

Signatures (inspect them with `saved_model_cli show --dir <path> --all`):

* `encode(audio)`: audio float32 [batch, samples] at 16 kHz -> `code`
  float32 [batch, samples // hop, channels] (trimmed to whole hops); each
  clip's offset is first taken out and, when quieter than the model's
  `input_peak`, the clip raised to it, as `codes.encode_at_level` does
  (0.9 for the shipped models; Magenta's takes audio as it is). A
  pitch-conditioned model's code ends with each clip's MIDI pitch (17
  channels for h64_bo16_pitch), estimated here as `model.encode` does:
  the median pYIN f0 of the clip's voiced frames, rounded (60 when none),
  by `pitch.estimate_pitch` in TensorFlow ops.
* `encode_at_pitch(audio, pitch)`, pitch-conditioned models only: the same
  with the pitch given, float32 [batch] (or [1] for every clip) MIDI
  numbers in [0, 127], fractions between semitones. In Python the loaded
  `encode` takes it too: `m.encode(audio)` or `m.encode(audio, pitch)`.
* `generate(code, seed, temperature)`: code [batch, frames,
  channels], seed int32 scalar, temperature float32 scalar -> `audio`
  float32 [batch, frames * hop]; the same XLA-compiled sample loop as
  `generation.synthesize`, so equal seeds give equal audio.
* `init_state(batch_size)` -> `position` int32 scalar, `x_prev` float32
  [batch] and `state` float32 [batch, state_size]: all zeros, the start.
* `decode_step(code_frame, x_prev, position, state)`: one sample with
  explicit state; code_frame [batch, channels] is frame position // hop of
  the code and x_prev the network input of the previous sample (mu-law
  q / 128, q in [-128, 127]; class c gives q = c - 128) -> `logits`
  [batch, 256] of this sample, and the next `position` and `state`.
"""

import os

import tensorflow as tf

from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import atomic_folder
from magenta_wavenet.sound import dsp
from magenta_wavenet.sound.pitch import append_pitch
from magenta_wavenet.sound.pitch import estimate_pitch
from magenta_wavenet.synthesis.generation import DEFAULT_CHUNK
from magenta_wavenet.synthesis.generation import Synthesizer
from magenta_wavenet.synthesis.incremental import IncrementalDecoder


class ServingModule(tf.Module):
  """The model's encoder and generator as `tf.function`s with fixed inputs.

  Args:
    model: An `NSynthAutoencoder`.
    chunk_size: Samples per compiled loop call of `generate`.
  """

  def __init__(self, model, chunk_size=DEFAULT_CHUNK):
    super().__init__(name='nsynth_serving')
    # The encoder layer, not the model: a tracked Keras model would be
    # saved with a `serving_default` of its own, traced without a pitch.
    self.encoder = model.encoder
    self.config = model.config
    self.synthesizer = Synthesizer(model, chunk_size=chunk_size,
                                   runtime='xla')
    self.decoder = self.synthesizer.decoder
    self.buffer_shapes = [(buffer.shape[0], buffer.shape[2]) for buffer
                          in self.decoder.init_state(1)[1]]
    self.state_size = sum(taps * channels
                          for taps, channels in self.buffer_shapes)
    width = self.config.code_width
    # Traced by `encoders`, with and without the pitch.
    self.encode = tf.function(self._encode)
    self.generate = tf.function(self._generate, input_signature=[
        tf.TensorSpec([None, None, width], tf.float32, name='code'),
        tf.TensorSpec([], tf.int32, name='seed'),
        tf.TensorSpec([], tf.float32, name='temperature')])
    self.init_state = tf.function(self._init_state, input_signature=[
        tf.TensorSpec([], tf.int32, name='batch_size')])
    self.decode_step = tf.function(self._decode_step, input_signature=[
        tf.TensorSpec([None, width], tf.float32, name='code_frame'),
        tf.TensorSpec([None], tf.float32, name='x_prev'),
        tf.TensorSpec([], tf.int32, name='position'),
        tf.TensorSpec([None, self.state_size], tf.float32, name='state')])

  def encoders(self):
    """{signature name: concrete function} of `encode`: 'encode', and
    'encode_at_pitch' for a pitch-conditioned model."""
    audio = tf.TensorSpec([None, None], tf.float32, name='audio')
    signatures = {'encode': self.encode.get_concrete_function(audio)}
    if self.config.pitch_classes:
      signatures['encode_at_pitch'] = self.encode.get_concrete_function(
          audio, tf.TensorSpec([None], tf.float32, name='pitch'))
    return signatures

  def _encode(self, audio, pitch=None):
    length = dsp.trimmed_length(tf.shape(audio)[1], self.config.hop_length)
    # The clip as `codes.encode_at_level` hands it to model.encode.
    heard, _ = dsp.to_level(audio[:, :length], self.config.input_peak)
    code = self.encoder(dsp.to_network_input(dsp.mu_law_encode(heard)))
    if not self.config.pitch_classes:
      return {'code': code}
    if pitch is None:  # from the whole clip, as model.encode
      pitch = estimate_pitch(heard, self.config.sample_rate)
    else:
      tf.debugging.assert_less_equal(
          tf.abs(pitch - 63.5), 63.5,
          'pitch must be MIDI numbers in [0, 127].')
    return {'code': append_pitch(
        code, tf.broadcast_to(pitch, tf.shape(audio)[:1]))}

  def _generate(self, code, seed, temperature):
    batch = tf.shape(code)[0]
    total = tf.shape(code)[1] * self.config.hop_length
    chunk = self.synthesizer.chunk_size
    projected = self.decoder.project_code(code)
    pieces = tf.TensorArray(tf.float32, size=(total + chunk - 1) // chunk,
                            element_shape=[chunk, None])

    def body(index, state, x_prev, pieces):
      steps = tf.minimum(chunk, total - index * chunk)
      # The same compiled chunk loop as synthesize, hence the same audio.
      sample_chunk = self.synthesizer.sample_chunk
      state, x_prev, audio = sample_chunk(state, x_prev, projected, steps,
                                          seed, temperature)
      return index + 1, state, x_prev, pieces.write(index, audio)

    _, _, _, pieces = tf.while_loop(
        lambda index, *_: index < pieces.size(), body,
        (0, self.decoder.init_state(batch), tf.zeros([batch]), pieces))
    audio = tf.transpose(pieces.concat())[:, :total]
    return {'audio': audio}

  def _pack(self, buffers):
    """Buffers [2d, batch, channels] -> one tensor [batch, state_size]."""
    batch = tf.shape(buffers[0])[1]
    return tf.concat([tf.reshape(tf.transpose(buffer, [1, 0, 2]), [batch, -1])
                      for buffer in buffers], axis=1)

  def _unpack(self, state):
    sizes = [taps * channels for taps, channels in self.buffer_shapes]
    batch = tf.shape(state)[0]
    return tuple(
        tf.transpose(tf.reshape(piece, [batch, taps, channels]), [1, 0, 2])
        for piece, (taps, channels)
        in zip(tf.split(state, sizes, axis=1), self.buffer_shapes))

  def _init_state(self, batch_size):
    position, buffers = self.decoder.init_state(batch_size)
    return {'position': position, 'x_prev': tf.zeros([batch_size]),
            'state': self._pack(buffers)}

  def _decode_step(self, code_frame, x_prev, position, state):
    projected = self.decoder.project_code(code_frame[:, tf.newaxis])
    logits, (position, buffers) = self.decoder.step(
        (position, self._unpack(state)), x_prev,
        IncrementalDecoder.frame(projected, 0))
    return {'logits': logits, 'position': position,
            'state': self._pack(buffers)}


def export_saved_model(model, folder, chunk_size=DEFAULT_CHUNK):
  """Writes `model` as a SavedModel with the signatures listed above.

  The folder is replaced atomically: written beside it, then renamed. Only
  an empty folder or an earlier SavedModel is replaced.

  Raises:
    MagentaWavenetError: when `folder` holds something else.
  """
  folder = os.path.abspath(os.fspath(folder))
  if os.path.isdir(folder) and os.listdir(folder) and not os.path.isfile(
      os.path.join(folder, 'saved_model.pb')):
    raise MagentaWavenetError(
        f'{folder}: not empty and not a SavedModel; not replacing it.')
  module = ServingModule(model, chunk_size)
  signatures = module.encoders()
  signatures.update({name: getattr(module, name).get_concrete_function()
                     for name in ('generate', 'init_state', 'decode_step')})
  atomic_folder(folder, lambda staging: tf.saved_model.save(
      module, staging, signatures=signatures))
