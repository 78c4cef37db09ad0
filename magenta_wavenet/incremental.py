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

from magenta_wavenet import dsp
from magenta_wavenet.layers.decoder_block import gate


def _as_matrix(conv, dtype):
  """[taps, in, out] kernel -> [out, taps * in] matrix, taps oldest first."""
  kernel = tf.convert_to_tensor(conv.kernel)
  taps, channels_in, channels_out = kernel.shape
  return tf.cast(tf.transpose(tf.reshape(
      kernel, [taps * channels_in, channels_out])), dtype)


def _apply(inputs, matrix):
  """inputs [B, in] (float32) x matrix [out, in] -> [B, out] float32."""
  if matrix.dtype == tf.float32:
    return tf.matmul(inputs, matrix, transpose_b=True)
  product = tf.matmul(tf.cast(inputs, matrix.dtype), matrix, transpose_b=True)
  return tf.cast(product, tf.float32)


def _fused_weights(decoder, dtype):
  """The decoder's weights in the step's layout: (matrix, float32 bias)
  pairs, matrices [out, in] of `dtype` (see the module docstring)."""
  def pair(conv):
    return _as_matrix(conv, dtype), tf.convert_to_tensor(conv.bias)
  return {
      'start': pair(decoder.startconv),
      'skip_start': pair(decoder.skip_start),
      'taps': [pair(block.dilated) for block in decoder.blocks],
      'res_skip': [
          (tf.concat([_as_matrix(block.res, dtype),
                      _as_matrix(block.skip, dtype)], axis=0),
           tf.concat([block.res.bias, block.skip.bias], axis=0))
          for block in decoder.blocks],
      'out1': pair(decoder.out1),
      'logits': pair(decoder.logits)}


class IncrementalDecoder(tf.Module):
  """Step-by-step view of a `WaveNetDecoder`.

  The step reads variables of its own that hold a copy of the decoder's
  weights in the step's layout, taken at construction and again by each
  `refresh`: call `refresh` after the decoder's weights change
  (`Synthesizer` does at the start of each call).

  Args:
    decoder: The `WaveNetDecoder` (`model.decoder`) to run.
    weight_dtype: 'float32' (default, exact) or 'bfloat16' (weights stored in
      16 bits, products accumulated and activations kept in float32).

  Example:
    >>> fast = IncrementalDecoder(model.decoder)
    >>> state = fast.init_state(batch_size=2)
    >>> frames = fast.project_code(code)          # once per code
    >>> logits, state = fast.step(state, x_prev, fast.frame(frames, 0))
  """

  def __init__(self, decoder, weight_dtype='float32'):
    if weight_dtype not in ('float32', 'bfloat16'):
      raise ValueError("weight_dtype must be 'float32' or 'bfloat16', "
                       f'got {weight_dtype!r}.')
    super().__init__(name='incremental_decoder')
    self.config = decoder.config
    self.weight_dtype = weight_dtype
    self.dilations = (1,) + tuple(self.config.decoder_dilations)
    self._decoder = decoder
    weights = _fused_weights(decoder, tf.as_dtype(weight_dtype))
    self._fused = [tf.Variable(tensor, trainable=False)
                   for tensor in tf.nest.flatten(weights)]
    views = tf.nest.pack_sequence_as(weights, self._fused)
    self._start = views['start']
    self._skip_start = views['skip_start']
    self._taps = views['taps']
    self._res_skip = views['res_skip']
    self._out1 = views['out1']
    self._logits = views['logits']
    self._cond_maps = [block.cond_map for block in decoder.blocks]
    self._cond_out = decoder.cond_map_out1

  @tf.function(autograph=False)
  def refresh(self):
    """Copies the decoder's current weights into the step's variables.

    One graph call, a pass over the weights: on 2 CPU cores 20 ms for
    h64_bo16, 0.6 s for h512_bo16 (whose sample loop takes seconds per
    thousand samples there). Compiled functions that use this decoder read
    the new values without retracing.
    """
    weights = _fused_weights(self._decoder, tf.as_dtype(self.weight_dtype))
    for variable, tensor in zip(self._fused, tf.nest.flatten(weights)):
      variable.assign(tensor)

  @property
  def weight_bytes(self):
    """Bytes of weights read per step (the memory-bandwidth floor's size)."""
    return sum(int(v.shape.num_elements()) * v.dtype.size
               for v in self._fused)

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
    code = self._decoder.conditioning(tf.convert_to_tensor(code, tf.float32))
    layers = tf.stack([cond_map(code) + taps[1] for cond_map, taps
                       in zip(self._cond_maps, self._taps)])
    out = self._cond_out(code) + self._out1[1]
    return (tf.transpose(layers, [2, 0, 1, 3]), tf.transpose(out, [1, 0, 2]))

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
    layer_terms, out_term = frame
    taps, start_buffer = self._causal_taps(
        buffers[0], position, 1, x_prev[:, tf.newaxis])
    residual = _apply(taps, self._start[0]) + self._start[1]
    skips = _apply(residual, self._skip_start[0]) + self._skip_start[1]
    new_buffers = [start_buffer]
    width = self.config.decoder_width
    for i, dilation in enumerate(self.dilations[1:]):
      taps, buffer = self._causal_taps(buffers[i + 1], position, dilation,
                                       residual)
      new_buffers.append(buffer)
      gated = gate(_apply(taps, self._taps[i][0]) + layer_terms[i])
      res_skip = _apply(gated, self._res_skip[i][0]) + self._res_skip[i][1]
      residual += res_skip[:, :width]
      skips += res_skip[:, width:]
    hidden = tf.nn.relu(_apply(tf.nn.relu(skips), self._out1[0]) + out_term)
    logits = _apply(hidden, self._logits[0]) + self._logits[1]
    return logits, (position + 1, tuple(new_buffers))


def feedback_tables():
  """Per class in [0, 255]: (audio sample, next network input), float32 [256].

  As the reference: a sampled class becomes audio by inverse mu-law, and that
  audio is mu-law encoded again as the next input. Tabulated once so the
  sample loop does a gather instead of pow/log per step.
  """
  audio = dsp.mu_law_decode(dsp.from_class(tf.range(256)))
  return audio, dsp.to_network_input(dsp.mu_law_encode(audio))
