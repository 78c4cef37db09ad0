"""Each generated sample's expected value: the draw's own noise taken out.

The decoder gives sample t a distribution p(c | x[< t], code) over the 256
mu-law classes, and the sample loop draws one class and feeds it back.
`expected_audio` writes instead that distribution's mean,
sum_c p(c) value(c), over the very samples that were drawn: the trajectory
stays the draws' (each step still heard the class drawn before it), and what
the model could not predict of each sample, the draw's deviation from the
mean, leaves the output together with mu-law's quantization steps. Where the
model predicts a tone well, that deviation is much of the broadband floor
between its harmonics; where it predicts little (noise, an unconditioned
model's wandering pitch), the mean is only a quieter, duller copy.

The sample loops keep each mean as they draw (`synthesize(...,
expected_value=True)`, a softmax a step); `expected_audio` gives them for
audio already drawn (a prime, a saved resynthesis): from the teacher-forced
Keras decoder in float32 (the loops' float32 logits equal it to float32
rounding), in windows of the audio with the decoder's receptive field
before each, so that every window's means equal those of one pass. A
window runs as one traced graph (`tf.function`, any shape), kept per
decoder: 1.6x faster than eager layers on a 4 s note (2-core Zen 4).
"""

import weakref

import numpy as np
import tensorflow as tf

from magenta_wavenet.model.autoencoder import check_code
from magenta_wavenet.sound import dsp
from magenta_wavenet.synthesis.incremental import feedback_tables

# Batch rows x samples of one teacher-forced window: its logits are 256
# float32 numbers a sample (64 MiB at this size). Rows go in groups whose
# windows are at least 4 receptive fields long, so that the field recomputed
# before each window adds at most a quarter.
WINDOW_SAMPLES = 65536
# decoder -> its traced window; an entry lives as long as its decoder.
_WINDOWS = weakref.WeakKeyDictionary()


def expected_audio(decoder, codes, audio, temperature=1.0):
  """The expected value of each sample's distribution, over drawn audio.

  Args:
    decoder: The `WaveNetDecoder` that drew the audio (`model.decoder`).
    codes: float32 [batch, frames, code_width], the codes it was drawn from;
      sample t is conditioned on frame t // hop_length.
    audio: float32 [batch, samples], samples <= frames * hop_length, the
      drawn audio (any audio: it is mu-law encoded as the decoder's input).
    temperature: The temperature the samples were drawn at: the mean is that
      of softmax(logits / temperature); 0 (the most likely class, no
      draw) returns the audio unchanged.

  Returns:
    float32 numpy array [batch, samples] in [-1, 1].
  """
  audio = np.asarray(audio, np.float32)
  codes = np.asarray(codes, np.float32)
  config = decoder.config
  hop = config.hop_length
  check_code(codes, config, audio.shape[1])
  if temperature == 0 or audio.shape[1] == 0:
    return audio.copy()
  window_means = _window_means(decoder)
  temperature = tf.constant(temperature, tf.float32)
  context = -(-config.decoder_receptive_field // hop) * hop
  rows = max(1, min(len(audio), WINDOW_SAMPLES // (4 * context)))
  window = max(hop, WINDOW_SAMPLES // rows // hop * hop)
  means = np.empty_like(audio)
  for first in range(0, len(audio), rows):
    group = slice(first, first + rows)
    for begin in range(0, audio.shape[1], window):
      end = min(audio.shape[1], begin + window)
      start = max(0, begin - context)
      means[group, begin:end] = window_means(
          audio[group, start:end], codes[group, start // hop:],
          temperature).numpy()[:, begin - start:]
  return means


def expected_value(logits, temperature):
  """The mean amplitude of softmax(logits / temperature) over the mu-law
  classes' values, float32 [..., 256] -> [...], in the graph (the XLA loop
  and `expected_audio`; `host_loop.expected_value` for the host loops); at
  temperature 0, the most likely class's value, the draw itself."""
  values = feedback_tables()[0]
  drawn = temperature > 0
  probabilities = tf.nn.softmax(
      logits / tf.where(drawn, temperature, 1.0), axis=-1)
  return tf.where(drawn, tf.linalg.matvec(probabilities, values),
                  tf.gather(values, tf.argmax(logits, axis=-1)))


def _window_means(decoder):
  """The traced function (audio [batch, samples], codes, temperature) ->
  means [batch, samples] of `decoder`, made on first use."""
  if decoder not in _WINDOWS:

    def window_means(audio, codes, temperature):
      inputs = dsp.to_network_input(dsp.mu_law_encode(audio))
      return expected_value(decoder(inputs, codes), temperature)
    _WINDOWS[decoder] = tf.function(window_means, input_signature=[
        tf.TensorSpec([None, None], tf.float32),
        tf.TensorSpec([None, None, decoder.config.code_width], tf.float32),
        tf.TensorSpec([], tf.float32)])
  return _WINDOWS[decoder]
