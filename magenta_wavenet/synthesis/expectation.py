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

The means come from the teacher-forced Keras decoder in float32, whichever
weights and runtime drew the samples (the sample loops' float32 logits equal
it to float32 rounding), in windows of the audio with the decoder's receptive
field before each, so that every window's means equal those of one pass.
"""

import numpy as np
import tensorflow as tf

from magenta_wavenet.model.autoencoder import check_code
from magenta_wavenet.sound import dsp
from magenta_wavenet.synthesis.incremental import feedback_tables

# Batch rows x samples of one teacher-forced window: its logits are 256
# float32 numbers a sample (64 MiB at this size).
WINDOW_SAMPLES = 65536


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
  values = feedback_tables()[0]
  context = -(-config.decoder_receptive_field // hop) * hop
  window = max(hop, WINDOW_SAMPLES // max(1, audio.shape[0]) // hop * hop)
  means = np.empty_like(audio)
  for begin in range(0, audio.shape[1], window):
    end = min(audio.shape[1], begin + window)
    start = max(0, begin - context)
    inputs = dsp.to_network_input(dsp.mu_law_encode(audio[:, start:end]))
    logits = decoder(inputs, codes[:, start // hop:])[:, begin - start:]
    probabilities = tf.nn.softmax(logits / temperature, axis=-1)
    means[:, begin:end] = tf.linalg.matvec(probabilities, values).numpy()
  return means
