"""The encoder's residual blocks for inference, by Winograd's F(4, 3).

A block is `x + res(relu(dilated(relu(x))))` (`layers.EncoderBlock`), where
the centred three-tap convolution is y[t] = b + W0 x[t - d] + W1 x[t] +
W2 x[t + d]. Winograd's minimal filtering F(4, 3) (Lavin and Gray, 2016)
computes four outputs, y[t + k d] for k = 0..3, from the six inputs
x_j = x[t + (j - 1) d], j = 0..5, with six matrix products instead of
twelve, m_i = v_i U_i, where (with the interpolation points 0, 1, -1, 2,
-2 and infinity)

  v0 = 4 x0 - 5 x2 + x4            U0 = W0 / 4
  v1 = -4 x1 - 4 x2 + x3 + x4      U1 = -(W0 + W1 + W2) / 6
  v2 = 4 x1 - 4 x2 - x3 + x4       U2 = -(W0 - W1 + W2) / 6
  v3 = -2 x1 - x2 + 2 x3 + x4      U3 = (W0 + 2 W1 + 4 W2) / 24
  v4 = 2 x1 - x2 - 2 x3 + x4       U4 = (W0 - 2 W1 + 4 W2) / 24
  v5 = 4 x1 - 5 x3 + x5            U5 = W2

  y[t] = m0 + m1 + m2 + m3 + m4 + b
  y[t + d] = m1 - m2 + 2 m3 - 2 m4 + b
  y[t + 2d] = m1 + m2 + 4 m3 + 4 m4 + b
  y[t + 3d] = m1 - m2 + 8 m3 - 8 m4 + m5 + b

So a block costs 2.5 products of width^2 per sample instead of 4 (with its
1x1 `res`): 0.625x the encoder's arithmetic. Zeros outside the signal are
the convolution's own padding, so every output depends on exactly the
inputs it does in the Keras layers. F(4, 3) rounds further from the exact
convolution than F(2, 3) (four products per pair of outputs, 0.75x): 1.7e-6
of the largest value against 1.7e-7, for one convolution of width 128. But
the residual stream carries most of each block's output, and h512_bo16's
code came within 2.0e-7 of the Keras layers' (relative to its largest
value) against 1.3e-7 by F(2, 3).

Time is cut into chunks of about `CHUNK_SAMPLES` outputs, so that a
chunk's transformed inputs and products stay in the caches, and the chunks
are shared by one thread per core (Numba's kernels and numpy's products
release the GIL), each product on one BLAS thread. The sums around the
products are Numba kernels that pass over a chunk once each: the input
transform reads relu(x) where it lies (no padded copy), the output
transform adds the bias and applies the relu on its way to the `res`
product's input, and the residual is added where the `res` product wrote.
On the 2-core development machine (Zen 4 cores), h512_bo16's 30 blocks
(width 128) over 64,000 samples took 1.01-1.05 s, against 1.15-1.17 s by
F(2, 3) with the same fused sums, in the same process; the products run
at the machine's product rate, so the arithmetic is what is left.
"""

import concurrent.futures

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from magenta_wavenet import cpu

CHUNK_SAMPLES = 2048  # of 1,024 to 8,192 tried, the fastest
# Outputs of the three-tap convolution computed together, and their
# matrix products (width x width each).
OUTPUTS = 4
PRODUCTS = 6
PRODUCTS_PER_SAMPLE = PRODUCTS / OUTPUTS
NAME = f'F({OUTPUTS}, 3)'
# The element-wise kernels: without fastmath, so float32 sums round in the
# order written; without the GIL, so the pool's threads run them together.
_kernel = numba.njit(error_model='numpy', cache=True, nogil=True)
_ZERO = np.float32(0)
# The transform of the kernels, [products, taps]: U = G W.
_KERNEL_TRANSFORM = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6],
                              [-1 / 6, 1 / 6, -1 / 6],
                              [1 / 24, 1 / 12, 1 / 6],
                              [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])


def product_kernels(kernel):
  """kernel [3, in, out] -> [6, in, out]: the products' matrices U_i (in
  float64, then rounded once)."""
  return np.einsum('it,tab->iab', _KERNEL_TRANSFORM,
                   np.asarray(kernel, np.float64)).astype(np.float32)


@numba.njit(error_model='numpy', cache=True, inline='always')
def _write_transform(inputs, quad, channel, x0, x1, x2, x3, x4, x5):
  """inputs[:, quad, channel] = v0..v5 of the six relu'd inputs."""
  two, four, five = np.float32(2), np.float32(4), np.float32(5)
  inputs[0, quad, channel] = four * x0 - five * x2 + x4
  inputs[1, quad, channel] = -four * x1 - four * x2 + x3 + x4
  inputs[2, quad, channel] = four * x1 - four * x2 - x3 + x4
  inputs[3, quad, channel] = -two * x1 - x2 + two * x3 + x4
  inputs[4, quad, channel] = two * x1 - x2 - two * x3 + x4
  inputs[5, quad, channel] = four * x1 - five * x3 + x5


@_kernel
def _transformed(x, first, last, dilation, inputs):
  """Writes the input transform of rows [first, last) into inputs.

  Args:
    x: The block's input [time, width] float32; relu(x) is convolved,
      zeros outside [0, time).
    first, last: Rows of `dilation` quads; quad (row, phase) gives the
      outputs at t + k d, t = 4 row dilation + phase, k = 0..3.
    dilation: d, in samples.
    inputs: [6, (last - first) dilation, width] float32, written: v0..v5
      of x_j = relu(x[t + (j - 1) d]).
  """
  time, width = x.shape
  taps = np.empty((6, width), np.float32)  # at the signal's edges
  quad = 0
  for row in range(first, last):
    for phase in range(dilation):
      t = 4 * row * dilation + phase
      if t - dilation >= 0 and t + 4 * dilation < time:  # all six inside
        for channel in range(width):
          _write_transform(inputs, quad, channel,
                           max(x[t - dilation, channel], _ZERO),
                           max(x[t, channel], _ZERO),
                           max(x[t + dilation, channel], _ZERO),
                           max(x[t + 2 * dilation, channel], _ZERO),
                           max(x[t + 3 * dilation, channel], _ZERO),
                           max(x[t + 4 * dilation, channel], _ZERO))
      else:
        for j in range(6):
          at = t + (j - 1) * dilation
          for channel in range(width):
            taps[j, channel] = (max(x[at, channel], _ZERO)
                                if 0 <= at < time else _ZERO)
        for channel in range(width):
          _write_transform(inputs, quad, channel, taps[0, channel],
                           taps[1, channel], taps[2, channel],
                           taps[3, channel], taps[4, channel],
                           taps[5, channel])
      quad += 1


@_kernel
def _activated(products, bias, dilation, hidden):
  """Writes relu(y + bias) into hidden [rows, 4, dilation, width], y the
  output transform of products [6, rows dilation, width]."""
  rows, width = hidden.shape[0], hidden.shape[3]
  two, four, eight = np.float32(2), np.float32(4), np.float32(8)
  quad = 0
  for row in range(rows):
    for phase in range(dilation):
      for channel in range(width):
        m0 = products[0, quad, channel]
        m1 = products[1, quad, channel]
        m2 = products[2, quad, channel]
        m3 = products[3, quad, channel]
        m4 = products[4, quad, channel]
        m5 = products[5, quad, channel]
        b = bias[channel]
        hidden[row, 0, phase, channel] = max(m0 + m1 + m2 + m3 + m4 + b,
                                             _ZERO)
        hidden[row, 1, phase, channel] = max(
            m1 - m2 + two * m3 - two * m4 + b, _ZERO)
        hidden[row, 2, phase, channel] = max(
            m1 + m2 + four * m3 + four * m4 + b, _ZERO)
        hidden[row, 3, phase, channel] = max(
            m1 - m2 + eight * m3 - eight * m4 + m5 + b, _ZERO)
      quad += 1


@_kernel
def _add_residual(out, x, res_bias, begin, end):
  """out[t] = out[t] + res_bias + x[t] for t in [begin, end)."""
  for t in range(begin, end):
    for channel in range(x.shape[1]):
      out[t, channel] = out[t, channel] + res_bias[channel] + x[t, channel]


def block(x, kernels, bias, res_kernel, res_bias, dilation, pool):
  """One encoder block: x + res(relu(dilated(relu(x)))).

  Args:
    x: [time, width] float32 numpy, C-contiguous.
    kernels: `product_kernels` of the dilated convolution's kernel.
    bias: Its bias [width].
    res_kernel: The 1x1 `res` convolution's matrix [width, width].
    res_bias: Its bias [width].
    dilation: The dilation d, in samples.
    pool: A thread pool to share the chunks.

  Returns:
    [time, width] float32.
  """
  time, width = x.shape
  span = OUTPUTS * dilation  # samples of a row: one quad per phase
  rows = -(-time // span)
  out = np.empty((rows * span, width), np.float32)
  step = max(1, CHUNK_SAMPLES // span)

  def chunk(first):
    last = min(rows, first + step)
    inputs = np.empty((PRODUCTS, (last - first) * dilation, width),
                      np.float32)
    _transformed(x, first, last, dilation, inputs)
    hidden = np.empty((last - first, OUTPUTS, dilation, width), np.float32)
    _activated(np.matmul(inputs, kernels), bias, dilation, hidden)
    begin, end = first * span, last * span
    np.matmul(hidden.reshape(-1, width), res_kernel, out=out[begin:end])
    _add_residual(out, x, res_bias, begin, min(end, time))

  list(pool.map(chunk, range(0, rows, step)))
  return out[:time]


def encoder_blocks(hidden, blocks):
  """Runs `layers.EncoderBlock`s on hidden [batch, time, width] float32
  numpy, as they would (three taps each); returns the same shape."""
  weights = [(product_kernels(b.dilated.kernel.numpy()),
              b.dilated.bias.numpy(), b.res.kernel.numpy()[0],
              b.res.bias.numpy(), b.dilation)
             for b in blocks]
  outputs = []
  with concurrent.futures.ThreadPoolExecutor(cpu.cores()) as pool, \
      threadpool_limits(1):
    for x in np.asarray(hidden, np.float32):
      for layer in weights:
        x = block(x, *layer, pool)
      outputs.append(x)
  return np.stack(outputs)
