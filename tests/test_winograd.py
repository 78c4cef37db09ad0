"""The encoder's blocks by Winograd's F(4, 3) equal the Keras layers'."""

import concurrent.futures

from conftest import randomize
import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet.model import winograd


def direct_block(x, kernel, bias, res_kernel, res_bias, dilation):
  """x + res(relu(dilated(relu(x)))) by the three taps, in float64."""
  hidden = np.maximum(x.astype(np.float64), 0)
  time = len(x)
  padded = np.pad(hidden, [(dilation, dilation), (0, 0)])
  dilated = bias + sum(padded[i * dilation:i * dilation + time] @ kernel[i]
                       for i in range(3))
  return x + np.maximum(dilated, 0) @ res_kernel + res_bias


@pytest.mark.parametrize('time,dilation', [(64, 1), (70, 4), (100, 512),
                                           (3000, 16), (5, 2)])
def test_a_block_is_the_direct_convolution(time, dilation):
  rng = np.random.default_rng(time + dilation)
  width = 6
  x = rng.normal(size=(time, width)).astype(np.float32)
  kernel = rng.normal(size=(3, width, width)).astype(np.float32)
  bias, res_bias = rng.normal(size=(2, width)).astype(np.float32)
  res_kernel = rng.normal(size=(width, width)).astype(np.float32)
  with concurrent.futures.ThreadPoolExecutor(2) as pool:
    fast = winograd.block(x, winograd.product_kernels(kernel), bias, res_kernel,
                          res_bias, dilation, pool)
  exact = direct_block(x, kernel, bias, res_kernel, res_bias, dilation)
  assert fast.shape == (time, width) and fast.dtype == np.float32
  assert np.abs(fast - exact).max() <= 1e-5 * np.abs(exact).max()


@pytest.mark.parametrize('name,samples', [('tiny', 640), ('h512_bo16', 4096)])
def test_infer_is_the_keras_encoder(name, samples):
  model = randomize(mw.NSynthAutoencoder(name))
  audio = np.random.default_rng(3).uniform(-.8, .8, (2, samples)).astype(
      np.float32)
  inputs = mw.sound.dsp.to_network_input(mw.sound.dsp.mu_law_encode(audio))
  keras_code = model.encoder(inputs).numpy()
  code = model.encoder.infer(inputs)
  assert isinstance(code, tf.Tensor)
  assert code.shape == keras_code.shape
  assert np.abs(code.numpy() - keras_code).max() <= (
      2e-6 * np.abs(keras_code).max())
  # encode runs it.
  np.testing.assert_array_equal(model.encode(audio).numpy(), code.numpy())


def test_in_a_graph_or_with_five_taps_it_is_the_keras_encoder():
  model = randomize(mw.NSynthAutoencoder('tiny'))
  inputs = np.random.default_rng(5).uniform(-1, 1, (1, 640)).astype(
      np.float32)
  # A graph compiles the same operations, rounded alike within an ulp.
  np.testing.assert_allclose(
      tf.function(model.encoder.infer)(inputs).numpy(),
      model.encoder(inputs).numpy(), rtol=0, atol=3e-7)
  config = mw.get_config('tiny').replace(name='tiny_five',
                                         encoder_filter_length=5)
  model = randomize(mw.NSynthAutoencoder(config))
  np.testing.assert_array_equal(model.encoder.infer(inputs).numpy(),
                                model.encoder(inputs).numpy())
