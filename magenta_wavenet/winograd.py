"""The encoder's residual blocks for inference, by Winograd's F(2, 3).

A block is `x + res(relu(dilated(relu(x))))` (`layers.EncoderBlock`), where
the centred three-tap convolution is y[t] = b + W0 x[t - d] + W1 x[t] +
W2 x[t + d]. Winograd's minimal filtering F(2, 3) (Lavin and Gray, 2016)
computes two outputs, y[t] and y[t + d], from the four inputs x[t - d],
x[t], x[t + d], x[t + 2d] with four matrix products instead of six:

  m0 = (x[t - d] - x[t + d]) W0
  m1 = (x[t] + x[t + d]) (W0 + W1 + W2) / 2
  m2 = (x[t + d] - x[t]) (W0 - W1 + W2) / 2
  m3 = (x[t] - x[t + 2d]) W2
  y[t] = m0 + m1 + m2 + b,  y[t + d] = m1 - m2 - m3 + b

So a block costs 3 products of width^2 per sample instead of 4 (with its
1x1 `res`): 0.75x the encoder's arithmetic, in float32 within about 1e-6
of the direct convolution (relative to the largest value). Zeros outside
the signal are the convolution's own padding, so every output depends on
exactly the inputs it does in the Keras layers.

Time is cut into chunks of about `CHUNK_PAIRS` output pairs, so that a
chunk's transformed inputs and products stay in the caches, and the chunks
are shared by one thread per core (Numba's kernels and numpy's products
release the GIL), each product on one BLAS thread. The sums around the
products are Numba kernels that pass over a chunk once each: the input
transform reads relu(x) where it lies (no padded copy), the output
transform adds the bias and applies the relu on its way to the `res`
product's input, and the residual is added where the `res` product wrote.
On the 2-core development machine (Zen 4 cores), h512_bo16's 30 blocks
(width 128) over 64,000 samples took 1.15-1.20 s, where the same F(2, 3)
with numpy's sums took 1.66-1.72 s (bit for bit the same code) and the
products alone 1.0 s, at the machine's product rate, in the same process.
F(4, 3) would need 0.83x the products, but rounded 10 times further from
the exact convolution in a block (1.7e-6 of the largest value against
1.7e-7 for F(2, 3), width 128), so it is not used.
"""

import concurrent.futures

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from magenta_wavenet import host_loop

CHUNK_PAIRS = 1024  # of 256 to 4,096 tried, the fastest
# Matrix products per output of a three-tap convolution: 4 per pair.
PRODUCTS_PER_SAMPLE = 2
# The element-wise kernels: without fastmath, so float32 sums round as
# numpy's do; without the GIL, so the pool's threads run them together.
_kernel = numba.njit(error_model='numpy', cache=True, nogil=True)
_ZERO = np.float32(0)


def pair_kernels(kernel):
  """kernel [3, in, out] -> [4, in, out]: the products' matrices (W0,
  (W0 + W1 + W2) / 2, (W0 - W1 + W2) / 2, W2)."""
  first, middle, last = np.asarray(kernel, np.float32)
  return np.stack([first, (first + middle + last) / 2,
                   (first - middle + last) / 2, last])


@_kernel
def _transformed(x, first, last, dilation, inputs):
  """Writes the input transform of pair rows [first, last) into inputs.

  Args:
    x: The block's input [time, width] float32; relu(x) is convolved,
      zeros outside [0, time).
    first, last: Rows of `dilation` pairs; pair (row, phase) gives the
      outputs at t = 2 row dilation + phase and t + dilation.
    dilation: d, in samples.
    inputs: [4, (last - first) dilation, width] float32, written:
      x[t - d] - x[t + d], x[t] + x[t + d], x[t + d] - x[t],
      x[t] - x[t + 2d].
  """
  time, width = x.shape
  pair = 0
  for row in range(first, last):
    for phase in range(dilation):
      now = 2 * row * dilation + phase
      before, after, later = now - dilation, now + dilation, now + 2 * dilation
      for channel in range(width):
        x_before = max(x[before, channel], _ZERO) if before >= 0 else _ZERO
        x_now = max(x[now, channel], _ZERO) if now < time else _ZERO
        x_after = max(x[after, channel], _ZERO) if after < time else _ZERO
        x_later = max(x[later, channel], _ZERO) if later < time else _ZERO
        inputs[0, pair, channel] = x_before - x_after
        inputs[1, pair, channel] = x_now + x_after
        inputs[2, pair, channel] = x_after - x_now
        inputs[3, pair, channel] = x_now - x_later
      pair += 1


@_kernel
def _activated(products, bias, dilation, hidden):
  """Writes relu(y + bias) into hidden [rows, 2, dilation, width], y the
  output transform of products [4, rows dilation, width]: y[t] = m0 + m1 +
  m2 (hidden[:, 0]) and y[t + d] = m1 - m2 - m3 (hidden[:, 1])."""
  rows, width = hidden.shape[0], hidden.shape[3]
  pair = 0
  for row in range(rows):
    for phase in range(dilation):
      for channel in range(width):
        middle, centre = products[1, pair, channel], products[2, pair, channel]
        early = products[0, pair, channel] + middle
        early += centre
        late = middle - centre
        late -= products[3, pair, channel]
        hidden[row, 0, phase, channel] = max(early + bias[channel], _ZERO)
        hidden[row, 1, phase, channel] = max(late + bias[channel], _ZERO)
      pair += 1


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
    kernels: `pair_kernels` of the dilated convolution's kernel.
    bias: Its bias [width].
    res_kernel: The 1x1 `res` convolution's matrix [width, width].
    res_bias: Its bias [width].
    dilation: The dilation d, in samples.
    pool: A thread pool to share the chunks.

  Returns:
    [time, width] float32.
  """
  time, width = x.shape
  rows = -(-time // (2 * dilation))  # of 2d samples: one pair per phase
  out = np.empty((2 * rows * dilation, width), np.float32)
  step = max(1, CHUNK_PAIRS // dilation)

  def chunk(first):
    last = min(rows, first + step)
    inputs = np.empty((4, (last - first) * dilation, width), np.float32)
    _transformed(x, first, last, dilation, inputs)
    hidden = np.empty((last - first, 2, dilation, width), np.float32)
    _activated(np.matmul(inputs, kernels), bias, dilation, hidden)
    begin, end = 2 * first * dilation, 2 * last * dilation
    np.matmul(hidden.reshape(-1, width), res_kernel, out=out[begin:end])
    _add_residual(out, x, res_bias, begin, min(end, time))

  list(pool.map(chunk, range(0, rows, step)))
  return out[:time]


def encoder_blocks(hidden, blocks):
  """Runs `layers.EncoderBlock`s on hidden [batch, time, width] float32
  numpy, as they would (three taps each); returns the same shape."""
  weights = [(pair_kernels(b.dilated.kernel.numpy()), b.dilated.bias.numpy(),
              b.res.kernel.numpy()[0], b.res.bias.numpy(), b.dilation)
             for b in blocks]
  outputs = []
  with concurrent.futures.ThreadPoolExecutor(host_loop.cores()) as pool, \
      threadpool_limits(1):
    for x in np.asarray(hidden, np.float32):
      for layer in weights:
        x = block(x, *layer, pool)
      outputs.append(x)
  return np.stack(outputs)
