r"""How often the traced pYIN's MIDI pitch is librosa's pYIN's.

`pitch.note_pitches` (batched, --batch notes of one length a call) runs
pYIN as `estimate_pitch`'s TensorFlow ops; this command holds its MIDI
pitch to librosa's (`pitch.f0`, then the median f0 of the voiced frames
in MIDI, rounded half to even and clipped to [0, 127], `FALLBACK_PITCH`
without a voiced frame: what `note_pitch` did before it was traced). The
target: the same MIDI pitch on >= 98% of the notes of every set.

Each --input_dir is a set: every audio file under it (recursively), loaded
at 16 kHz, its first 4 s (64,000 samples, what encoding sees) or the whole
file if shorter. Each --notes .npy [notes, samples] is a set too. Per set
it prints the notes, the share with the same MIDI pitch, the notes without
a voiced frame for each estimator, the notes that differ (name, librosa's
and the traced MIDI) and each estimator's wall time per note (tracing
excluded; both warmed up first).

The sets: the GrandOrgue demo organ (every pipe of the seven stops;
`tools/real_sets.py` says how to unpack it), the instrument samples of
Debian `lmms-common` (`apt-get download lmms-common && dpkg -x
lmms-common_*.deb lm`: usr/share/lmms/samples/{basses,instruments,
stringsnpads} are notes, drums/ tests the unvoiced fallback), the real
NSynth notes (`--notes example_nsynth_audio.npy`) and the bundled notes:

  python -m tools.pitch_agreement --input_dir organ,lmms,drums,\
magenta_wavenet/sounds --notes example_nsynth_audio.npy
"""

import logging
import os
import time

from absl import flags
import numpy as np

from magenta_wavenet.cli import common
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.sound import pitch
from magenta_wavenet.sound.audio import AUDIO_EXTENSIONS
from magenta_wavenet.sound.audio import load_audio

FLAGS = common.new_flags()
flags.DEFINE_list('input_dir', [], 'Folders of recorded notes, a set each.',
                  flag_values=FLAGS)
flags.DEFINE_list('notes', [], '.npy files [notes, samples] at 16 kHz, a '
                  'set each.', flag_values=FLAGS)
flags.DEFINE_integer('batch', 4, 'Notes per note_pitches call.',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('note_samples', 64000, 'Samples kept of each note.',
                     lower_bound=1, flag_values=FLAGS)


class _Unvoiced(logging.Filter):
  """Counts `note_pitches`' warnings of a note without a voiced frame."""

  def __init__(self):
    super().__init__()
    self.names = set()

  def filter(self, record):
    if 'no pitch found' in record.msg:
      self.names.add(record.args[0])
    return True


def librosa_pitch(audio):
  """librosa pYIN's MIDI pitch of a note as `note_pitch` rounds it, and
  whether a frame was voiced."""
  frequency, voiced = pitch.f0(audio)
  if not np.any(voiced):
    return pitch.FALLBACK_PITCH, False
  return int(np.clip(np.round(pitch.hz_to_midi(
      np.median(frequency[voiced]))), 0, 127)), True


def load_set(source, note_samples):
  """(names, notes float32 [samples] each) of a folder or an .npy."""
  if source.endswith('.npy'):
    notes = np.load(source).astype(np.float32)
    return ([f'{i:02d}' for i in range(len(notes))],
            list(notes[:, :note_samples]))
  paths = sorted(os.path.relpath(os.path.join(root, name), source)
                 for root, _, names in os.walk(source, followlinks=True)
                 for name in names if name.lower().endswith(AUDIO_EXTENSIONS))
  names, notes = [], []
  for path in paths:
    try:
      notes.append(load_audio(os.path.join(source, path))[:note_samples])
    except MagentaWavenetError as error:
      print(f'skipped: {error}')
      continue
    names.append(os.path.splitext(path)[0])
  return names, notes


def compare(names, notes, batch, unvoiced):
  """Both estimators on every note: (rows of name, librosa's MIDI, the
  traced MIDI, whether each found a voiced frame; librosa s, traced s)."""
  ours, ours_s = {}, 0.0
  by_length = sorted(range(len(notes)), key=lambda i: (len(notes[i]), i))
  while by_length:
    size = len(notes[by_length[0]])
    group = [i for i in by_length[:batch] if len(notes[i]) == size]
    by_length = by_length[len(group):]
    start = time.perf_counter()
    found = pitch.note_pitches(np.stack([notes[i] for i in group]),
                               sources=[names[i] for i in group])
    ours_s += time.perf_counter() - start
    ours.update(zip(group, found))
  rows, theirs_s = [], 0.0
  for i, note in enumerate(notes):
    start = time.perf_counter()
    midi, voiced = librosa_pitch(note)
    theirs_s += time.perf_counter() - start
    rows.append((names[i], midi, ours[i], voiced, names[i] not in unvoiced))
  return rows, theirs_s, ours_s


def _body(flag_values):
  sources = flag_values.input_dir + flag_values.notes
  if not sources:
    raise MagentaWavenetError('give --input_dir or --notes.')
  unvoiced = _Unvoiced()
  logging.getLogger(pitch.__name__).addFilter(unvoiced)
  warm = np.sin(np.arange(8192) * 0.05).astype(np.float32)
  pitch.note_pitches(warm[np.newaxis])  # traces the graph
  librosa_pitch(warm)  # compiles librosa's Numba code
  table = ['| set | notes | same MIDI | unvoiced librosa / traced | '
           'differing (librosa -> traced) | s/note librosa | s/note traced '
           '|', '| --- | ---: | ---: | ---: | --- | ---: | ---: |']
  for source in sources:
    unvoiced.names.clear()
    names, notes = load_set(source, flag_values.note_samples)
    if not notes:
      raise MagentaWavenetError(f'{source}: no notes.')
    rows, theirs_s, ours_s = compare(names, notes, flag_values.batch,
                                     unvoiced.names)
    same = sum(a == b for _, a, b, _, _ in rows)
    differ = [f'{name} {a} -> {b}' for name, a, b, _, _ in rows if a != b]
    mute = [sum(not row[column] for row in rows) for column in (3, 4)]
    line = (f'| {os.path.basename(source.rstrip("/"))} | {len(rows)} | '
            f'{100.0 * same / len(rows):.1f}% | {mute[0]} / {mute[1]} | '
            f'{", ".join(differ) or "-"} | {theirs_s / len(rows):.3f} | '
            f'{ours_s / len(rows):.3f} |')
    print(line, flush=True)
    table.append(line)
  print('\n'.join(table))


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
