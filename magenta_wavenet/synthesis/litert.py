"""The decoder as a LiteRT (TensorFlow Lite) model with 16- or 8-bit weights.

At batch 1 the float32 XLA step is bound by reading every decoder weight
once per sample (237 MB for h512_bo16). Stored in fewer bits and read by
kernels that never write a float32 copy, the weights cost fewer bytes:
TensorFlow's own deployment path does this. `convert` turns the decoder into
one LiteRT flatbuffer with two signatures,

* `decode_step` (the model's first subgraph, so the plain `Interpreter`
  calls run it): x_prev [batch], start_past [batch, 2] (x[t - 2], x[t - 1]
  of the start conv), past_old and past_mid [layers, batch, width] (x[t - 2d]
  and x[t - d] of each dilated conv) and layer_terms [layers, batch,
  2 * width] of the step's frame -> skips [batch, skip] (ReLU of the skip
  connections' sum), currents [layers, batch, width] (each dilated conv's
  input x[t]): the arithmetic of `incremental.decoder_skips`;
* `project_code`: code [batch, frames, code_width] -> layer_terms [frames,
  layers, batch, 2 * width], out_term [frames, batch, skip]
  (`incremental.project_code`, run once per code);
* `output_layers`: no inputs -> the float32 weights of out1 and logits,
  `out1` [skip, skip] and `logits` [skip, 256] ([in, out]), `logits_bias`
  [256]: constants, which no weight format quantizes,

with its weights in one of `WEIGHT_FORMATS`:

* 'float32': the same numbers as the XLA step (for export and comparison);
* 'float16': weights stored in 16 bits (half the file); LiteRT's XNNPACK
  kernels unpack them to float32 when the model loads, so a step reads as
  many bytes as float32;
* 'int8': dynamic-range quantization, int8 weights with a float32 scale per
  output channel; XNNPACK quantizes each step's activations on the fly and
  reads the int8 weights directly: a quarter of the bytes. The last two
  products (out1 and logits, under 0.3% of h512_bo16's step weights) stay
  float32: quantized, they alone moved h64_bo16's NLL of real notes by up
  to +0.50 bits (all layers: +0.53); kept float32, the whole model moves
  it by at most 0.054 bits.

`LiteRTDecoder` runs the sample loop in Python around `decode_step`, with
the ring buffers and the seeded draw (`gumbel_max`) of `host_loop`, as the
Numba loop runs them, and applies out1 and logits (`output_layers`) to each
step's skips with numpy: in the model, where the converter quantizes a
plain product's weights, they ran as a multiply and a sum, about 11 ms of
h512_bo16's int8 step at batch 256 against 0.7 ms for the host's matrix
products (one thread, `_one_blas_thread`). The Python loop costs about
0.1 ms per step: small against h512_bo16's step (7 ms with int8 weights,
19 ms float32 on 2 cores), but more than a small model's whole step, which
`numba_loop` runs instead (`generation.default_runtime`).
"""

import contextlib
import json
import logging
import os
import tempfile

import numpy as np
import tensorflow as tf
from threadpoolctl import threadpool_limits

from magenta_wavenet import cpu
from magenta_wavenet.errors import ConfigError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import atomic_folder
from magenta_wavenet.model.config import WaveNetConfig
from magenta_wavenet.synthesis import host_loop
from magenta_wavenet.synthesis.incremental import decoder_skips
from magenta_wavenet.synthesis.incremental import feedback_tables
from magenta_wavenet.synthesis.incremental import fused_weights
from magenta_wavenet.synthesis.incremental import project_code

WEIGHT_FORMATS = ('float32', 'float16', 'int8')
# The `fused_weights` an int8 model keeps float32 (its `output_layers`,
# see the module docstring).
UNQUANTIZED = ('out1', 'logits')
# The `output_layers` signature's outputs, in the order `_apply_output`
# takes them.
OUTPUT_LAYERS = ('out1', 'logits', 'logits_bias')
MODEL_FILE = 'model.tflite'
CONFIG_FILE = 'config.json'


def check_weight_format(weights):
  """Raises ConfigError (a ValueError) unless `weights` is one of
  `WEIGHT_FORMATS`."""
  if weights not in WEIGHT_FORMATS:
    raise ConfigError(f'weights must be one of {", ".join(WEIGHT_FORMATS)}; '
                     f'got {weights!r}.')


def _step_function(decoder):
  """The `decode_step` signature's function over the decoder's current
  weights."""
  config = decoder.config
  layers = len(config.decoder_dilations)
  width = config.decoder_width
  weights = fused_weights(decoder)

  def step(x_prev, start_past, past_old, past_mid, layer_terms):
    currents = []
    # Each layer's [batch, channels] from one unstack of each input. Indexed
    # one layer at a time instead (a strided slice that drops the axis),
    # they made h512_bo16's int8 step 1.3-2.2x slower: 2.2-2.5, 9.7-9.9 and
    # 129-132 ms at batch 1, 16 and 256 against 1.8, 5.2 and 58-64 (the
    # interpreter's calls alone, on the 2-core development machine's Zen 4
    # cores).
    olds, mids = tf.unstack(past_old), tf.unstack(past_mid)

    def taps_of(conv, current):
      if conv == 0:
        return tf.concat([start_past, current], axis=-1)
      currents.append(current)
      return tf.concat([olds[conv - 1], mids[conv - 1], current], axis=-1)

    skips = decoder_skips(weights, x_prev, taps_of, tf.unstack(layer_terms))
    return {'skips': tf.nn.relu(skips), 'currents': tf.stack(currents)}

  return tf.function(step, input_signature=[
      tf.TensorSpec([None], tf.float32, name='x_prev'),
      tf.TensorSpec([None, 2], tf.float32, name='start_past'),
      tf.TensorSpec([layers, None, width], tf.float32, name='past_old'),
      tf.TensorSpec([layers, None, width], tf.float32, name='past_mid'),
      tf.TensorSpec([layers, None, 2 * width], tf.float32,
                    name='layer_terms')])


def _project_function(decoder):
  """The `project_code` signature's function."""
  weights = fused_weights(decoder)

  def project(code):
    layer_terms, out_term = project_code(decoder, weights, code)
    return {'layer_terms': layer_terms, 'out_term': out_term}

  return tf.function(project, input_signature=[tf.TensorSpec(
      [None, None, decoder.config.code_width], tf.float32, name='code')])


def _output_function(decoder):
  """The `output_layers` signature's function."""
  weights = fused_weights(decoder)

  def output_layers():
    return {'out1': tf.transpose(weights['out1'][0]),
            'logits': tf.transpose(weights['logits'][0]),
            'logits_bias': weights['logits'][1]}

  return tf.function(output_layers, input_signature=[])


def convert(decoder, weights):
  """The decoder's current weights as a LiteRT flatbuffer.

  Args:
    decoder: A `WaveNetDecoder` (`model.decoder`).
    weights: One of `WEIGHT_FORMATS`.

  Returns:
    bytes of a .tflite model with the `decode_step`, `project_code` and
    `output_layers` signatures.
  """
  check_weight_format(weights)
  with _quiet_tensorflow():
    return _convert(decoder, weights)


@contextlib.contextmanager
def _quiet_tensorflow():
  """Hides the INFO lines of saving the intermediate SavedModel ('Assets
  written to', renamed input names), logged by TensorFlow and absl."""
  loggers = [tf.get_logger(), logging.getLogger('absl')]
  levels = [logger.level for logger in loggers]
  for logger in loggers:
    logger.setLevel(logging.WARNING)
  try:
    yield
  finally:
    for logger, level in zip(loggers, levels):
      logger.setLevel(level)


def _convert(decoder, weights):
  """See `convert`."""
  module = tf.Module()
  module.functions = {'decode_step': _step_function(decoder),
                      'project_code': _project_function(decoder),
                      'output_layers': _output_function(decoder)}
  with tempfile.TemporaryDirectory() as folder:
    tf.saved_model.save(module, folder, signatures={
        name: function.get_concrete_function()
        for name, function in module.functions.items()})
    converter = tf.lite.TFLiteConverter.from_saved_model(
        folder, signature_keys=list(module.functions))
    if weights != 'float32':
      converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if weights == 'float16':
      converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


class LiteRTDecoder:
  """A decoder's LiteRT model and the Python sample loop around it.

  Made from a model by `from_decoder` (converting, seconds for h512_bo16)
  or from an exported folder by `load`. The loops have the signatures of
  `generation.Synthesizer`'s compiled ones, with numpy arrays.

  Args:
    flatbuffer: bytes from `convert`.
    config: The decoder's `WaveNetConfig`.
    weights: The flatbuffer's weight format (one of `WEIGHT_FORMATS`).
    decoder: Optional `WaveNetDecoder` the flatbuffer came from; `refresh`
      converts again when its weights have changed since.
  """

  def __init__(self, flatbuffer, config, weights, decoder=None):
    check_weight_format(weights)
    self.config = config
    self.weights = weights
    self.flatbuffer = flatbuffer
    self._decoder = decoder
    self._fingerprint = host_loop.fingerprint(decoder) if decoder else None
    self._rings = host_loop.Rings(config)
    self._interpreter = None
    self._output_layers = None
    self._step_call = None
    self._audio_table, self._input_table = (
        table.numpy() for table in feedback_tables())

  @classmethod
  def from_decoder(cls, decoder, weights):
    """Converts `decoder` (`model.decoder`) with weights in `weights`."""
    return cls(convert(decoder, weights), decoder.config, weights, decoder)

  @classmethod
  def load(cls, path):
    """Loads a folder written by `save` (`export --format=tflite`)."""
    try:
      with open(os.path.join(path, CONFIG_FILE), encoding='utf-8') as handle:
        saved = json.load(handle)
      with open(os.path.join(path, MODEL_FILE), 'rb') as handle:
        flatbuffer = handle.read()
    except (OSError, ValueError) as error:
      raise MagentaWavenetError(
          f'{path}: not a LiteRT export ({MODEL_FILE} and {CONFIG_FILE}): '
          f'{error}') from None
    from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
    if 'output_layers' not in Interpreter(
        model_content=flatbuffer).get_signature_list():
      raise MagentaWavenetError(
          f'{path}: a LiteRT export of an earlier version (its {MODEL_FILE} '
          'has no output_layers signature); export the model again.')
    return cls(flatbuffer, WaveNetConfig.from_dict(saved['model']),
               saved['weights'])

  def save(self, path):
    """Writes `model.tflite` and `config.json` (model and weight format).

    The folder is replaced atomically; only an empty folder or an earlier
    LiteRT export is replaced.

    Raises:
      MagentaWavenetError: when `path` holds something else.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path) and os.listdir(path) and not os.path.isfile(
        os.path.join(path, MODEL_FILE)):
      raise MagentaWavenetError(
          f'{path}: not empty and not a LiteRT export; not replacing it.')

    def write(folder):
      with open(os.path.join(folder, MODEL_FILE), 'wb') as handle:
        handle.write(self.flatbuffer)
      with open(os.path.join(folder, CONFIG_FILE), 'w',
                encoding='utf-8') as handle:
        json.dump({'model': self.config.to_dict(), 'weights': self.weights},
                  handle, indent=2)
    atomic_folder(path, write)

  def refresh(self):
    """Converts again if the source decoder's weights have changed."""
    if self._decoder is None:
      return
    fingerprint = host_loop.fingerprint(self._decoder)
    if fingerprint != self._fingerprint:
      self.flatbuffer = convert(self._decoder, self.weights)
      self._fingerprint = fingerprint
      self._interpreter = None
      self._step_call = None

  def _interpreter_of(self):
    from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
    if self._interpreter is None:
      # One thread beat two for h64_bo16's bare int8 step (0.11 ms against
      # 0.20 on 2 cores), but not for h512_bo16's (7.4 ms against 5.5).
      threads = (1 if host_loop.fits_in_cache(self.config)
                 else cpu.cores())
      self._interpreter = Interpreter(model_content=self.flatbuffer,
                                      num_threads=threads)
      runner = self._interpreter.get_signature_runner('output_layers')
      # Copies: the runner's arrays would pin the interpreter's memory.
      outputs = runner()
      self._output_layers = tuple(outputs[name].copy()
                                  for name in OUTPUT_LAYERS)
    return self._interpreter

  def project_code(self, code):
    """(layer_terms [frames, layers, batch, 2W], out_term [frames, batch,
    skip]) of code [batch, frames, code_width], float32 numpy."""
    project = self._interpreter_of().get_signature_runner('project_code')
    outputs = project(code=np.asarray(code, np.float32))
    # Copies: the runner's arrays would pin the interpreter's memory.
    return outputs['layer_terms'].copy(), outputs['out_term'].copy()

  def init_state(self, batch):
    """Zero state (`host_loop.Rings.init_state`)."""
    return self._rings.init_state(batch)

  def _step_at(self, batch):
    """`decode_step` as a function, for this batch size."""
    if self._step_call is None or self._step_call.batch != batch:
      self._step_call = _StepCall(self._interpreter_of(), self.config, batch)
    return self._step_call

  def _step(self, state, x_prev, projected, step):
    """One step: logits [batch, 256]; advances `state` in place."""
    position, start_past, rings = state
    layer_terms, out_term = projected
    frame = position // self.config.hop_length
    oldest, middle = self._rings.slots(position)  # x[t - 2d], then x[t]
    skips = step(x_prev, start_past, rings, oldest, middle,
                 layer_terms[frame])
    start_past[:, 0] = start_past[:, 1]
    start_past[:, 1] = x_prev
    state[0] = position + 1
    return self._apply_output(skips, out_term[frame])

  def _apply_output(self, skips, out_term):
    """Logits [batch, 256] of skips [batch, skip] (after their ReLU) and the
    frame's out_term [batch, skip]: `incremental.decoder_step`'s output
    layers, float32."""
    out1, logits, logits_bias = self._output_layers
    hidden = np.matmul(skips, out1)
    hidden += out_term
    np.maximum(hidden, 0, out=hidden)
    output = np.matmul(hidden, logits)
    output += logits_bias
    return output

  def sample_loop(self, state, x_prev, projected, num_steps, seed,
                  temperature, means=None):
    """Samples `num_steps` samples; returns (state, last input, audio
    [num_steps, batch]), drawn by `host_loop.gumbel_max` with the seed's
    noise, as the Numba loop draws them. `means`, when given (float32
    [num_steps, batch]), gets each sample's expected value
    (`host_loop.expected_value`).
    """
    batch = x_prev.shape[0]
    step = self._step_at(batch)
    audio = np.zeros([num_steps, batch], np.float32)
    temperature = np.float32(temperature)
    with _one_blas_thread():
      for i in range(num_steps):
        logits = self._step(state, x_prev, projected, step)
        sample_class = np.array([
            host_loop.gumbel_max(row_logits, temperature, seed, state[0] - 1,
                                 row)
            for row, row_logits in enumerate(logits)])
        audio[i] = self._audio_table[sample_class]
        if means is not None:
          means[i] = [host_loop.expected_value(row_logits, temperature,
                                               self._audio_table)
                      for row_logits in logits]
        x_prev = self._input_table[sample_class]
    return state, x_prev, audio

  def forced_loop(self, state, x_prev, projected, inputs):
    """Teacher forcing over inputs [steps, batch] (network inputs of the
    samples predicted); returns (state, last input, logits [steps, batch,
    256])."""
    step = self._step_at(x_prev.shape[0])
    logits = np.zeros([len(inputs), x_prev.shape[0],
                       self.config.quantization_channels], np.float32)
    with _one_blas_thread():
      for i, next_input in enumerate(inputs):
        logits[i] = self._step(state, x_prev, projected, step)
        x_prev = next_input
    return state, x_prev, logits


def _one_blas_thread():
  """Keeps numpy's BLAS (the output layers' products) on one thread: with
  more, its threads spin after each product on the cores that XNNPACK's
  next step needs (h512_bo16's int8 step at batch 256: 119 ms against 80
  with the output layers in the model)."""
  return threadpool_limits(1, user_api='blas')


class _StepCall:
  """`decode_step` at one batch size, through the plain `Interpreter` API:
  the signature runner resizes and allocates its inputs at every call, more
  than a small model's step. The inputs are written, and the currents read,
  in place through the interpreter's tensor views (`Interpreter.tensor`):
  set_tensor and get_tensor would copy each once more (h512_bo16 at batch
  256: 31 MB of taps in, 16 MB of currents out per step)."""

  INPUTS = ('x_prev', 'start_past', 'past_old', 'past_mid', 'layer_terms')

  def __init__(self, interpreter, config, batch):
    layers = len(config.decoder_dilations)
    width = config.decoder_width
    shapes = {'x_prev': [batch], 'start_past': [batch, 2],
              'past_old': [layers, batch, width],
              'past_mid': [layers, batch, width],
              'layer_terms': [layers, batch, 2 * width]}
    runner = interpreter.get_signature_runner('decode_step')
    inputs = runner.get_input_details()
    outputs = runner.get_output_details()
    del runner  # it holds the interpreter, which then refuses to resize
    for name in self.INPUTS:
      interpreter.resize_tensor_input(inputs[name]['index'], shapes[name])
    interpreter.allocate_tensors()
    self.batch = batch
    self._interpreter = interpreter
    # Functions returning a view of the tensor's memory: a view must be
    # dropped before the next invoke, which refuses to run while one lives.
    self._inputs = {name: interpreter.tensor(inputs[name]['index'])
                    for name in self.INPUTS}
    self._skips, self._currents = (interpreter.tensor(outputs[name]['index'])
                                   for name in ('skips', 'currents'))

  def __call__(self, x_prev, start_past, rings, oldest, middle, layer_terms):
    """One step of the stacked rings [slots, batch, width]: the taps are
    their rows `oldest` (x[t - 2d]) and `middle` (x[t - d]), int arrays
    [layers]; writes the currents into rows `oldest` and returns the skips
    [batch, skip]."""
    inputs = self._inputs
    inputs['x_prev']()[:] = x_prev
    inputs['start_past']()[:] = start_past
    # mode='clip' (the rows are in range): 'raise' buffers `out`.
    np.take(rings, oldest, axis=0, out=inputs['past_old'](), mode='clip')
    np.take(rings, middle, axis=0, out=inputs['past_mid'](), mode='clip')
    inputs['layer_terms']()[:] = layer_terms
    self._interpreter.invoke()
    rings[oldest] = self._currents()
    return self._skips().copy()
