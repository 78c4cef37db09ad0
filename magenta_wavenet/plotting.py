"""Pictures of a sound and its NSynth code on one time axis.

Figures are drawn on matplotlib's Agg canvas directly, without pyplot: no
display is needed and the caller's own backend (e.g. a notebook's) is left
alone. The notebook and the `plot` command line both draw with `plot_code`.
"""

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np

from magenta_wavenet.audio import atomic_write
from magenta_wavenet.errors import EncodingError


def plot_code(audio, code, sample_rate=16000, hop_length=512, title=None):
  """Draws the waveform above its code, sharing a time axis in seconds.

  Each of the code's channels is one line; frame i is drawn at the centre of
  the samples it summarizes, (i + 0.5) * hop_length / sample_rate seconds.

  Args:
    audio: float array [samples] in [-1, 1].
    code: float array [frames, channels] (a leading batch axis of 1 is
      accepted).
    sample_rate: Rate of `audio`, Hz.
    hop_length: Samples per code frame.
    title: Optional title above the waveform.

  Returns:
    A `matplotlib.figure.Figure` on an Agg canvas.
  """
  audio = np.asarray(audio, np.float32).reshape(-1)
  code = np.asarray(code, np.float32)
  if code.ndim == 3 and code.shape[0] == 1:
    code = code[0]
  if code.ndim != 2:
    raise EncodingError(
        f'code must be [frames, channels], got shape {list(code.shape)}.')
  frames, channels = code.shape
  figure = Figure(figsize=(10, 5.5), layout='constrained')
  FigureCanvasAgg(figure)
  top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1.6])
  seconds = np.arange(audio.size) / sample_rate
  top.plot(seconds, audio, color='#1f4e79', linewidth=0.4)
  top.set_ylim(-1.05, 1.05)
  top.set_ylabel('amplitude')
  top.set_title(title or f'waveform ({audio.size} samples, '
                f'{audio.size / sample_rate:.2f} s)', loc='left')
  colours = matplotlib.colormaps['viridis'](np.linspace(0.0, 0.95, channels))
  frame_seconds = (np.arange(frames) + 0.5) * hop_length / sample_rate
  for channel in range(channels):
    bottom.plot(frame_seconds, code[:, channel], color=colours[channel],
                linewidth=1.2)
  bottom.set_ylabel('code value')
  bottom.set_xlabel('time (s)')
  bottom.set_title(f'code: {channels} channels x {frames} frames '
                   f'({sample_rate / hop_length:g} frames/s)', loc='left')
  end = max(audio.size / sample_rate, frames * hop_length / sample_rate)
  bottom.set_xlim(0.0, end)
  for axes in (top, bottom):
    axes.grid(True, color='#dddddd', linewidth=0.6)
    axes.spines[['top', 'right']].set_visible(False)
  return figure


def save_plot(path, audio, code, **kwargs):
  """Draws `plot_code(audio, code, **kwargs)` into a PNG file, atomically.

  Args:
    path: Destination `.png` path; its folder must exist.
    audio: float array [samples].
    code: float array [frames, channels].
    **kwargs: Passed to `plot_code`.
  """
  buffer = io.BytesIO()
  plot_code(audio, code, **kwargs).savefig(buffer, format='png', dpi=100)

  def write(temporary):
    with open(temporary, 'wb') as handle:
      handle.write(buffer.getvalue())

  atomic_write(path, write)
