r"""Combines NSynth codes: weighted mixes, interpolation grids, time stretch
and crossfades; writes the codes and, with --synthesize, their audio.

Inputs are audio files (encoded with the model) or `.npy` codes; codes of
different lengths are cut to the shortest. Exactly one of --mix,
--interpolate, --grid, --timestretch, --crossfade. Outputs go to
--save_path as `<name>.npy` (and `<name>.wav`):

* --mix: `mix.npy`, the weighted sum (weights as given, not normalized).
* --interpolate: `interp_<k>.npy` for k = 0..steps-1, from the first sound
  to the second.
* --grid: `grid_<row>_<col>.npy`, a steps x steps bilinear grid between
  four sounds at the corners (top-left, top-right, bottom-left,
  bottom-right), as the NSynth instrument grid.
* --timestretch: `<stem>_stretch_<factor>.npy`, the code resampled in time.
* --crossfade: `crossfade.npy`, the first sound then the second, blended
  over --overlap frames (32 ms each).

The default model is pitch-conditioned: its codes have 17 channels, the
last one the MIDI pitch, mixed like the others. `--pitch=N` plays every
result at MIDI N: 16-channel codes (from a model without pitch, such as
Magenta's h512_bo16 or the shipped h64_bo16) get it appended, 17-channel
ones have theirs replaced, audio is shifted from its own pitch to it
before it is encoded (so that sounds of different pitches mix at one), and
the results carry it. Without it, 16-channel codes mix as they are, but
--synthesize refuses them on a pitch-conditioned model, and the pitch
channels of audio and 17-channel codes mix like the rest: for sounds of
different pitches that is a pitch neither code carries (E5 and A1 half and
half are told MIDI 54.5 and play an octave above it), so give --pitch.
Models without pitch refuse `--pitch`.

`--retry_off_pitch` (with --synthesize and --pitch, audio inputs only)
generates a result that does not play --pitch (locked to a wrong partial,
or with none) again from its sounds shifted a semitone or two further and
mixed alike, then shifts it back, as `instrument --retry_off_pitch` retries
a pack's notes; each retry is logged.

Usage:
  # Half the bright E5 note, half the A1 bass, both moved to MIDI 60 and
  # heard through the shipped model:
  cd magenta_wavenet/sounds && python -m magenta_wavenet mix \
      --mix=nsynth_e5.wav:0.5,nsynth_a1.wav:0.5 --pitch=60 \
      --save_path=/tmp/mix --synthesize

  # A 5-step morph between two saved codes (from save_embeddings):
  python -m magenta_wavenet mix --save_path=output/morph --steps=5 \
      --interpolate=codes/e5_embeddings.npy,codes/a1_embeddings.npy

  # Two 16-channel codes from Magenta's model, morphed and heard through
  # the default pitch-conditioned model at MIDI 60:
  python -m magenta_wavenet mix --save_path=output/morph --synthesize \
      --interpolate=magenta_a.npy,magenta_b.npy --pitch=60

  # The 4-instrument grid, 3 x 3:
  python -m magenta_wavenet mix --save_path=output/grid --steps=3 \
      --grid=a.wav,b.wav,c.wav,d.wav

  # Twice as slow, and a crossfade of 20 frames:
  python -m magenta_wavenet mix --save_path=output/ --timestretch=a.wav \
      --factor=2
  python -m magenta_wavenet mix --save_path=output/ --crossfade=a.wav,b.wav \
      --overlap=20
"""

import os

from absl import flags
import numpy as np

from magenta_wavenet import codes as code_files
from magenta_wavenet import mixing
from magenta_wavenet import pitch_retry
from magenta_wavenet.cli import common
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.sound.audio import save_wav
from magenta_wavenet.sound.harmonics import harmonic_filter
from magenta_wavenet.synthesis import generation

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
flags.DEFINE_string('mix', '', 'Weighted sounds: path:weight,path:weight,...',
                    flag_values=FLAGS)
flags.DEFINE_list('interpolate', [], 'Two sounds to interpolate between.',
                  flag_values=FLAGS)
flags.DEFINE_list('grid', [], 'Four corner sounds: top-left, top-right, '
                  'bottom-left, bottom-right.', flag_values=FLAGS)
flags.DEFINE_string('timestretch', '', 'One sound to stretch in time.',
                    flag_values=FLAGS)
flags.DEFINE_list('crossfade', [], 'Two sounds to play one after the other.',
                  flag_values=FLAGS)
flags.DEFINE_integer('steps', 5, 'Interpolation steps (per side of a grid).',
                     lower_bound=2, flag_values=FLAGS)
flags.DEFINE_float('factor', 2.0, 'Time-stretch factor: 2 is twice as long.',
                   lower_bound=0.01, flag_values=FLAGS)
flags.DEFINE_integer('overlap', 16, 'Crossfade length in code frames.',
                     lower_bound=0, flag_values=FLAGS)
flags.DEFINE_string('save_path', '', 'Folder for the codes and audio.',
                    flag_values=FLAGS)
flags.DEFINE_integer('sample_length', 64000, 'Most samples encoded per audio '
                     'input.', lower_bound=1, flag_values=FLAGS)
flags.DEFINE_boolean('synthesize', False, 'Also generate the audio of every '
                     'result (slow: one sample at a time).', flag_values=FLAGS)
flags.DEFINE_float('temperature', 1.0, 'Softmax temperature of --synthesize.',
                   lower_bound=0.0, flag_values=FLAGS)
flags.DEFINE_integer('seed', None, 'Random seed of --synthesize.',
                     flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 16, 'Codes synthesized together.',
                     lower_bound=1, flag_values=FLAGS)
common.define_weights_flag(FLAGS)
common.define_pitch_flag(FLAGS)
common.define_harmonic_filter_flag(FLAGS)
common.define_retry_flag(FLAGS, mix=True)
common.define_expected_value_flag(FLAGS)


def parse_weighted(text):
  """'a.wav:0.5,b.npy:0.5' -> (['a.wav', 'b.npy'], [0.5, 0.5])."""
  paths, weights = [], []
  for part in filter(None, (p.strip() for p in text.split(','))):
    path, colon, weight = part.rpartition(':')
    try:
      if not colon or not path:
        raise ValueError
      weights.append(float(weight))
    except ValueError:
      raise MagentaWavenetError(
          f'--mix: "{part}" is not path:weight (e.g. a.wav:0.5).') from None
    paths.append(path)
  if len(paths) < 2:
    raise MagentaWavenetError('--mix needs at least two path:weight items.')
  return paths, weights


def combine(flag_values, load):
  """Runs the one mode chosen by the flags.

  Args:
    flag_values: Parsed flags.
    load: Function from a list of paths to their codes.

  Returns:
    dict {output name: code [frames, channels]}.
  """
  chosen = [mode for mode in mixing.MODES if getattr(flag_values, mode)]
  if len(chosen) != 1:
    raise MagentaWavenetError(
        'give exactly one of --' + ', --'.join(mixing.MODES)
        + (f' (got --{", --".join(chosen)}).' if chosen else '.'))
  mode = chosen[0]
  weights = None
  if mode == 'mix':
    paths, weights = parse_weighted(flag_values.mix)
  elif mode == 'timestretch':
    paths = [flag_values.timestretch]
  else:
    paths = getattr(flag_values, mode)
    wanted = 4 if mode == 'grid' else 2
    if len(paths) != wanted:
      raise MagentaWavenetError(
          f'--{mode} needs {wanted} comma-separated sounds, got '
          f'{len(paths)}.')
  return mixing.combine(
      mode, load(paths), weights=weights, steps=flag_values.steps,
      factor=flag_values.factor, overlap=flag_values.overlap,
      stem=os.path.splitext(os.path.basename(paths[0]))[0])


def synthesize_codes(model, named_codes, save_path, batch_size, temperature,
                     seed, weights='float32', harmonic_filter_db=0.0,
                     moved_codes=None, expected_value=False):
  """Generates `<name>.wav` for each code, `batch_size` at a time, with
  `harmonic_filter_db` dB taken off between the harmonics of each
  (`harmonics.harmonic_filter`; 0: as generated), of its samples' expected
  values when `expected_value` (`generation.synthesize`'s).

  `moved_codes`, when given, is a function (names, move) returning the codes
  [len(names), frames, channels] of those results made from their sounds
  moved `move` semitones: a result that does not play its code's pitch is
  then retried (`pitch_retry.retry_moved`) before it is written.
  """
  names = list(named_codes)

  def generate(codes, rows=None, progress=None):
    del rows  # every result of a mix has the same length
    return generation.synthesize(model, codes, temperature=temperature,
                                 seed=seed, progress=progress,
                                 weights=weights,
                                 expected_value=expected_value)

  for start in range(0, len(names), batch_size):
    chunk = names[start:start + batch_size]
    codes = np.stack([named_codes[name] for name in chunk])
    audio = generate(codes, progress=common.log_progress)
    if moved_codes:
      audio, moves = pitch_retry.retry_moved(
          codes[:, 0, -1], audio, generate,
          lambda rows, move, chunk=chunk: moved_codes(
              [chunk[row] for row in rows], move),
          model.config.sample_rate)
      pitch_retry.log_moves(chunk, moves, 'its sounds')
    for name, row in zip(chunk, audio):
      path = os.path.join(save_path, name + '.wav')
      save_wav(path, harmonic_filter(row, harmonic_filter_db,
                                     model.config.sample_rate))
      print(f'wrote {path}')


def _body(flag_values):
  common.make_folder(flag_values.save_path)
  loaded_model = []

  def model():
    if not loaded_model:
      loaded_model.append(common.model_from_flag(
          flag_values.checkpoint_path))
    return loaded_model[0]

  loading = common.Batch('loaded')
  pitch = flag_values.pitch
  retry = flag_values.retry_off_pitch
  if retry and (pitch is None or not flag_values.synthesize):
    raise MagentaWavenetError(
        '--retry_off_pitch retries what --synthesize generates at --pitch: '
        'give both.')

  def results_at(midi):
    """The named results with every sound read at MIDI `midi`."""
    def read(paths):
      if retry and any(path.lower().endswith('.npy') for path in paths):
        raise MagentaWavenetError(
            'retrying off-pitch results needs the sounds as audio: it moves '
            'them, and a code cannot be moved.')
      return code_files.read_codes(
          paths, model, flag_values.sample_length, on_error=loading.fail,
          fit=flag_values.synthesize, pitch=midi)
    results = combine(flag_values, read)
    if midi is None:
      return results
    # The results' pitch too: --mix weights scaled it.
    return {name: code_files.fit_code(code, model().config, midi)
            for name, code in results.items()}

  named_codes = results_at(pitch)
  for name, code in named_codes.items():
    path = os.path.join(flag_values.save_path, name + '.npy')
    code_files.save_code(path, code)
    print(f'wrote {path} {list(code.shape)}')
  if flag_values.synthesize:
    moved = {}

    def moved_codes(names, move):
      if move not in moved:
        moved[move] = results_at(pitch + move)
      return np.stack([moved[move][name] for name in names])
    synthesize_codes(model(), named_codes, flag_values.save_path,
                     flag_values.batch_size, flag_values.temperature,
                     flag_values.seed, flag_values.weights,
                     flag_values.harmonic_filter_db,
                     moved_codes if retry else None,
                     flag_values.expected_value)
  return 0


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
