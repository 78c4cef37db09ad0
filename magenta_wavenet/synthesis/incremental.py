"""Incremental (fast) WaveNet decoding: one sample per step, O(layers) work.

Each causal convolution of dilation d keeps its last 2d + 1 inputs in a ring
buffer (Paine et al. 2016), so a step reads the taps x[t - 2d] and x[t - d]
from the buffer instead of recomputing the receptive field. The step writes
x[t] first and reads the taps afterwards from other slots: reading a slot
that the same step overwrites makes XLA copy the whole loop-carried buffer
every step (measured: 21 us per step for a 256 kB buffer, 0.3 us without).
The weights are the decoder's own, copied (`refresh`) into variables of the
layout that makes a batch-B step a few matrix products:

* the three taps of a dilated conv become one [2W, 3C] matrix applied to
  concat(x[t - 2d], x[t - d], x[t]) (stored [out, in]: on a 2-core CPU this
  layout ran batch 4 in 15.9 ms per step against 31-33 ms for [in, out]),
* `res_i` and `skip_i` become one [W + S, W] matrix,
* `cond_map_i(code)` is computed once per code frame for all layers.
"""

import tensorflow as tf

from magenta_wavenet.model.layers.decoder_block import gate
from magenta_wavenet.sound import dsp


def _as_matrix(conv):
  """[taps, in, out] kernel -> [out, taps * in] matrix, taps oldest first."""
  kernel = tf.convert_to_tensor(conv.kernel)
  taps, channels_in, channels_out = kernel.shape
  return tf.transpose(tf.reshape(kernel, [taps * channels_in, channels_out]))


def _apply(inputs, matrix):
  """inputs [B, in] x matrix [out, in] -> [B, out]."""
  return tf.matmul(inputs, matrix, transpose_b=True)


def fused_weights(decoder):
  """The decoder's weights in the step's layout: (matrix, bias) pairs of
  float32, matrices [out, in] (see the module docstring).

  'condition' holds every cond_map layer's matrix (each layer's, then
  cond_map_out1's) with the biases that `project_code` adds once per frame:
  cond_map_i's plus the dilated conv's, and cond_map_out1's plus out1's.
  """
  def pair(conv):
    return _as_matrix(conv), tf.convert_to_tensor(conv.bias)
  return {
      'condition': (
          tf.concat([_as_matrix(block.cond_map) for block in decoder.blocks]
                    + [_as_matrix(decoder.cond_map_out1)], axis=0),
          tf.concat([block.cond_map.bias + block.dilated.bias
                     for block in decoder.blocks]
                    + [decoder.cond_map_out1.bias + decoder.out1.bias],
                    axis=0)),
      'start': pair(decoder.startconv),
      'skip_start': pair(decoder.skip_start),
      'taps': [pair(block.dilated) for block in decoder.blocks],
      'res_skip': [
          (tf.concat([_as_matrix(block.res), _as_matrix(block.skip)], axis=0),
           tf.concat([block.res.bias, block.skip.bias], axis=0))
          for block in decoder.blocks],
      'out1': pair(decoder.out1),
      'logits': pair(decoder.logits)}


def decoder_step(weights, x_prev, taps_of, layer_terms, out_term):
  """The arithmetic of one decoder step, wherever its past is kept.

  Args:
    weights: `fused_weights(decoder)` (tensors or variables).
    x_prev: Network input of the previous sample, [batch].
    taps_of: Called as taps_of(conv, current) for each causal convolution
      in order (0 the start convolution, i the i-th dilated one) with its
      input at t, current [batch, channels]; returns the taps
      concat(x[t - 2d], x[t - d], x[t]) [batch, 3 * channels].
    layer_terms: [layers, batch, 2 * width] conditioning of this step's
      frame, dilated convs' biases included (`project_code`).
    out_term: [batch, skip] out1's conditioning and bias.

  Returns:
    Logits [batch, 256] of the sample at t.
  """
  skips = decoder_skips(weights, x_prev, taps_of, layer_terms)
  hidden = tf.nn.relu(_apply(tf.nn.relu(skips), weights['out1'][0])
                      + out_term)
  return _apply(hidden, weights['logits'][0]) + weights['logits'][1]


def decoder_skips(weights, x_prev, taps_of, layer_terms):
  """`decoder_step` up to its output layers: the sum of the skip
  connections [batch, skip], before the ReLU that out1 reads (the LiteRT
  loop computes out1 and logits on the host, see `litert`)."""
  residual = (_apply(taps_of(0, x_prev[:, tf.newaxis]), weights['start'][0])
              + weights['start'][1])
  skips = _apply(residual, weights['skip_start'][0]) + weights['skip_start'][1]
  width = residual.shape[-1]
  for i, ((taps, _), (res_skip, res_skip_bias)) in enumerate(
      zip(weights['taps'], weights['res_skip'])):
    gated = gate(_apply(taps_of(i + 1, residual), taps) + layer_terms[i])
    res_skip = _apply(gated, res_skip) + res_skip_bias
    residual += res_skip[:, :width]
    skips += res_skip[:, width:]
  return skips


def project_code(decoder, weights, code):
  """See `IncrementalDecoder.project_code`; `weights` from `fused_weights`.
  """
  conditioning = decoder.conditioning(tf.convert_to_tensor(code, tf.float32))
  matrix, bias = weights['condition']
  terms = tf.einsum('bfc,oc->fbo', conditioning, matrix) + bias
  layers = len(weights['taps'])
  width = weights['taps'][0][0].shape[0]  # 2 * decoder_width
  shape = tf.shape(terms)
  layer_terms = tf.reshape(terms[..., :layers * width],
                           [shape[0], shape[1], layers, width])
  return (tf.transpose(layer_terms, [0, 2, 1, 3]),
          terms[..., layers * width:])


class IncrementalDecoder(tf.Module):
  """Step-by-step view of a `WaveNetDecoder`.

  The step reads variables of its own that hold a copy of the decoder's
  weights in the step's layout, taken at construction and again by each
  `refresh`: call `refresh` after the decoder's weights change
  (`Synthesizer` does at the start of each call).

  Args:
    decoder: The `WaveNetDecoder` (`model.decoder`) to run.

  Example:
    >>> fast = IncrementalDecoder(model.decoder)
    >>> state = fast.init_state(batch_size=2)
    >>> frames = fast.project_code(code)          # once per code
    >>> logits, state = fast.step(state, x_prev, fast.frame(frames, 0))
  """

  def __init__(self, decoder):
    super().__init__(name='incremental_decoder')
    self.config = decoder.config
    self.dilations = (1,) + tuple(self.config.decoder_dilations)
    self._decoder = decoder
    weights = fused_weights(decoder)
    self._fused = [tf.Variable(tensor, trainable=False)
                   for tensor in tf.nest.flatten(weights)]
    self._weights = tf.nest.pack_sequence_as(weights, self._fused)

  @tf.function(autograph=False)
  def refresh(self):
    """Copies the decoder's current weights into the step's variables.

    One graph call, a pass over the weights: on 2 CPU cores 20 ms for
    h64_bo16, 0.6 s for h512_bo16 (whose sample loop takes seconds per
    thousand samples there). Compiled functions that use this decoder read
    the new values without retracing.
    """
    weights = fused_weights(self._decoder)
    for variable, tensor in zip(self._fused, tf.nest.flatten(weights)):
      variable.assign(tensor)

  def step_weights(self):
    """The (matrix, bias) pairs a step reads: `fused_weights` but the
    conditioning's, read once per code."""
    return {name: pairs for name, pairs in self._weights.items()
            if name != 'condition'}

  @property
  def weight_bytes(self):
    """Bytes of float32 weights read per step (the memory-bandwidth floor's
    size)."""
    return sum(int(v.shape.num_elements()) * v.dtype.size
               for v in tf.nest.flatten(self.step_weights()))

  def init_state(self, batch_size):
    """Zero state: the time step and one ring buffer per causal convolution.

    Returns:
      (t int32 scalar, tuple of [2 * d + 1, batch, channels] float32 buffers:
      the start convolution's (channels 1) then each layer's (channels
      width)).
    """
    width = self.config.decoder_width
    buffers = [tf.zeros([3, batch_size, 1])] + [
        tf.zeros([2 * d + 1, batch_size, width]) for d in self.dilations[1:]]
    return tf.constant(0, tf.int32), tuple(buffers)

  def project_code(self, code):
    """Conditioning of every frame for every layer, computed once.

    Args:
      code: [batch, frames, code_width] float32 (a pitch-conditioned
        model's last channel is the MIDI pitch).

    Returns:
      (layer terms [frames, layers, batch, 2 * width] including the dilated
      convs' biases, output term [frames, batch, skip] including out1's bias).
    """
    return project_code(self._decoder, self._weights, code)

  @staticmethod
  def frame(projected, index):
    """The projected conditioning of frame `index` (see `project_code`)."""
    layers, out = projected
    return layers[index], out[index]

  def _causal_taps(self, buffer, position, dilation, current):
    """Stores x[t] in a ring buffer, then reads x[t - 2d] and x[t - d].

    With n = 2d + 1 slots, x[s] lives in slot s mod n: x[t] goes to
    t mod n, x[t - 2d] is in (t + 1) mod n and x[t - d] in (t + d + 1) mod n.
    """
    size = 2 * dilation + 1
    buffer = tf.tensor_scatter_nd_update(buffer, [[position % size]],
                                         current[tf.newaxis])
    oldest = buffer[(position + 1) % size]
    middle = buffer[(position + dilation + 1) % size]
    return tf.concat([oldest, middle, current], axis=-1), buffer

  def step(self, state, x_prev, frame):
    """One decoder step.

    Args:
      state: From `init_state` or a previous step.
      x_prev: Network input of the previous sample (q / 128), [batch];
        0 at t = 0.
      frame: `frame(projected, t // hop_length)`.

    Returns:
      (logits [batch, 256] of sample t, the state for t + 1).
    """
    position, buffers = state
    new_buffers = []

    def taps_of(conv, current):
      taps, buffer = self._causal_taps(buffers[conv], position,
                                       self.dilations[conv], current)
      new_buffers.append(buffer)
      return taps

    logits = decoder_step(self._weights, x_prev, taps_of, *frame)
    return logits, (position + 1, tuple(new_buffers))


def feedback_tables():
  """Per class in [0, 255]: (audio sample, next network input), float32 [256].

  As the reference: a sampled class becomes audio by inverse mu-law, and that
  audio is mu-law encoded again as the next input. Tabulated once so the
  sample loop does a gather instead of pow/log per step.
  """
  audio = dsp.mu_law_decode(dsp.from_class(tf.range(256)))
  return audio, dsp.to_network_input(dsp.mu_law_encode(audio))
