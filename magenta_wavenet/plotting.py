"""Pictures of a sound and its NSynth code on one time axis.

Figures are drawn on matplotlib's Agg canvas directly, without pyplot: no
display is needed and the caller's own backend (e.g. a notebook's) is left
alone. The notebook and the `plot` command line both draw with `plot_code`.
"""

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np

from magenta_wavenet.errors import CodeError
from magenta_wavenet.files import atomic_write
from magenta_wavenet.sound.audio import SAMPLE_RATE
from magenta_wavenet.sound.audio import import_librosa

_ENVELOPE_POINTS = 2000  # waveform bins; about two per pixel of the PNG


def plot_code(audio, code, sample_rate=SAMPLE_RATE, hop_length=512, title=None,
              pitched=False):
  """Draws the waveform above its code, sharing a time axis in seconds.

  The code is a heat map, one row per channel (red positive, blue negative,
  white 0); frame i covers the samples it summarizes, from
  i * hop_length / sample_rate to (i + 1) * hop_length / sample_rate seconds.

  Args:
    audio: float array [samples] in [-1, 1].
    code: float array [frames, channels] (a leading batch axis of 1 is
      accepted).
    sample_rate: Rate of `audio`, Hz.
    hop_length: Samples per code frame.
    title: Optional title above the waveform.
    pitched: The code is a pitch-conditioned model's: its last channel is the
      MIDI pitch, named in the code's title instead of drawn (a note number
      near 60 would wash out the learned channels' colours).

  Returns:
    A `matplotlib.figure.Figure` on an Agg canvas.
  """
  audio = np.asarray(audio, np.float32).reshape(-1)
  code = np.asarray(code, np.float32)
  if code.ndim == 3 and code.shape[0] == 1:
    code = code[0]
  if code.ndim != 2:
    raise CodeError(
        f'code must be [frames, channels], got shape {list(code.shape)}.')
  pitch_label = ''
  if pitched:
    pitch_label = ', ' + _pitch_label(code[:, -1])
    code = code[:, :-1]
  frames, channels = code.shape
  figure = Figure(figsize=(10, 5.5), layout='constrained')
  FigureCanvasAgg(figure)
  top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1.6])
  _draw_waveform(top, audio, sample_rate)
  top.set_ylim(-1.05, 1.05)
  top.set_ylabel('amplitude')
  top.set_title(title or f'waveform ({audio.size} samples, '
                f'{audio.size / sample_rate:.2f} s)', loc='left')
  edges = np.arange(frames + 1) * hop_length / sample_rate
  limit = float(np.max(np.abs(code))) or 1.0
  mesh = bottom.pcolormesh(edges, np.arange(channels + 1) - 0.5, code.T,
                           cmap='RdBu_r', vmin=-limit, vmax=limit)
  figure.colorbar(mesh, ax=bottom, label='code value', pad=0.01,
                  fraction=0.03)
  bottom.set_ylim(channels - 0.5, -0.5)
  bottom.set_yticks(range(0, channels, max(1, channels // 8)))
  bottom.set_ylabel('channel')
  bottom.set_xlabel('time (s)')
  bottom.set_title(f'code: {channels} channels x {frames} frames '
                   f'({sample_rate / hop_length:g} frames/s){pitch_label}',
                   loc='left')
  end = max(audio.size / sample_rate, frames * hop_length / sample_rate)
  bottom.set_xlim(0.0, end)
  top.set_axisbelow(True)
  top.grid(True, color='#dddddd', linewidth=0.6)
  top.spines[['top', 'right']].set_visible(False)
  return figure


def _pitch_label(pitch):
  """'pitch 76 (E5)', or 'pitch 60-67 (C4-G4)' when it moves."""
  note = import_librosa().midi_to_note
  low, high = float(np.min(pitch)), float(np.max(pitch))
  if low == high:
    return f'pitch {low:g} ({note(low)})'
  return f'pitch {low:g}-{high:g} ({note(low)}-{note(high)})'


def _draw_waveform(axes, audio, sample_rate, points=_ENVELOPE_POINTS):
  """The samples as a line or, when there are many, their min-max envelope.

  Above `points` samples, each of `points` equal bins is drawn as the band
  between its smallest and largest sample: it looks the same as the dense
  line at screen resolution, and the PNG stays small.
  """
  colour = '#1f4e79'
  if audio.size <= 2 * points:
    axes.plot(np.arange(audio.size) / sample_rate, audio, color=colour,
              linewidth=0.6)
    return
  edges = np.linspace(0, audio.size, points + 1).astype(int)
  low = np.minimum.reduceat(audio, edges[:-1])
  high = np.maximum.reduceat(audio, edges[:-1])
  centres = (edges[:-1] + edges[1:] - 1) / 2 / sample_rate
  axes.fill_between(centres, low, high, color=colour, linewidth=0.3,
                    edgecolor=colour)


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
