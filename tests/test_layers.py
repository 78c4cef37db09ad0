"""DilatedConv1D against a naive numpy loop, and its Keras contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from magenta_wavenet.model.layers import DecoderBlock
from magenta_wavenet.model.layers import DilatedConv1D
from magenta_wavenet.model.layers import EncoderBlock


def naive_conv(x, kernel, bias, dilation, causal):
  """y[b, t] = bias + sum_i x[b, t + offset_i] @ kernel[i], zero outside."""
  taps = kernel.shape[0]
  offsets = ([(i - (taps - 1)) * dilation for i in range(taps)] if causal else
             [(i - (taps - 1) // 2) * dilation for i in range(taps)])
  batch, time, _ = x.shape
  y = np.tile(bias, (batch, time, 1)).astype(np.float64)
  for t in range(time):
    for i, offset in enumerate(offsets):
      if 0 <= t + offset < time:
        y[:, t] += x[:, t + offset] @ kernel[i]
  return y


@pytest.mark.parametrize('taps, dilation, causal', [
    (3, 1, True), (3, 4, True), (3, 16, True), (3, 1, False), (3, 8, False),
    (1, 1, True), (5, 2, False)])
def test_equals_naive_loop(taps, dilation, causal):
  rng = np.random.default_rng(taps * 100 + dilation)
  x = rng.normal(size=(2, 64, 5)).astype(np.float32)
  conv = DilatedConv1D(7, taps, dilation, causal=causal)
  conv.build(x.shape)
  conv.kernel.assign(rng.normal(size=conv.kernel.shape).astype(np.float32))
  conv.bias.assign(rng.normal(size=(7,)).astype(np.float32))
  expected = naive_conv(x, conv.kernel.numpy(), conv.bias.numpy(), dilation,
                        causal)
  np.testing.assert_allclose(conv(x).numpy(), expected, atol=1e-5)


def test_causal_tap_order_follows_the_reference():
  """Kernel index 0 multiplies x[t - 2d], index 2 multiplies x[t]."""
  conv = DilatedConv1D(1, 3, dilation=2, causal=True)
  conv.build((1, 10, 1))
  conv.kernel.assign(np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1))
  impulse = np.zeros((1, 10, 1), np.float32)
  impulse[0, 3] = 1.0
  response = conv(impulse).numpy()[0, :, 0]
  np.testing.assert_array_equal(response, [0, 0, 0, 100, 0, 10, 0, 1, 0, 0])


def test_weights_carry_checkpoint_names():
  conv = DilatedConv1D(4, 3, 2, name='dilatedconv_7')
  conv.build((None, None, 3))
  assert [w.name for w in conv.weights] == ['W', 'biases']
  assert conv.kernel.shape == (3, 3, 4)


@pytest.mark.parametrize('layer', [
    DilatedConv1D(4, 3, 2, causal=False, name='ae_dilatedconv_2'),
    EncoderBlock(4, 3, 2, index=2),
    DecoderBlock(4, 3, 3, 2, hop_length=8, index=5)])
def test_config_round_trip(layer):
  clone = type(layer).from_config(layer.get_config())
  assert clone.get_config() == layer.get_config()
  serialized = keras.saving.serialize_keras_object(layer)
  assert type(keras.saving.deserialize_keras_object(serialized)) is type(layer)


def test_rejects_bad_arguments():
  with pytest.raises(ValueError, match='odd filter_length'):
    DilatedConv1D(4, 2, causal=False)
  with pytest.raises(ValueError, match='must be >= 1'):
    DilatedConv1D(0, 3)


def test_works_under_xla():
  conv = DilatedConv1D(6, 3, 4)
  x = tf.random.normal([2, 32, 3])
  eager = conv(x)
  jitted = tf.function(conv.__call__, jit_compile=True)(x)
  np.testing.assert_allclose(jitted.numpy(), eager.numpy(), atol=1e-5)
