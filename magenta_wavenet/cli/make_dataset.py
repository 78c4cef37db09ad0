r"""Builds NSynth-format TFRecords from audio files or from a SoundFont.

From a folder of notes named like NSynth's (keyboard_acoustic_004-060-100.wav):

  python -m magenta_wavenet make_dataset --input_dir notes/ --output_dir data/

From a SoundFont rendered with FluidSynth (3 s held + 1 s release, 16 kHz):

  python -m magenta_wavenet make_dataset --soundfont \
      /usr/share/sounds/sf2/FluidR3_GM.sf2 --programs 0,24,40,56,73 \
      --pitch_min 36 --pitch_max 84 --velocities 75,127 --output_dir data/

`--programs all` renders every melodic GM program that has an NSynth family.
"""

from absl import flags

from magenta_wavenet.cli import common
from magenta_wavenet.data import builders
from magenta_wavenet.data import soundfont
from magenta_wavenet.errors import MagentaWavenetError

FLAGS = common.new_flags()
flags.DEFINE_string('input_dir', None, 'Folder of NSynth-named audio files.',
                    flag_values=FLAGS)
flags.DEFINE_string('soundfont', None, 'A .sf2 file to render notes from, '
                    f'e.g. {soundfont.DEFAULT_SOUNDFONT}.', flag_values=FLAGS)
flags.DEFINE_string('output_dir', None, 'Where the TFRecords are written.',
                    flag_values=FLAGS)
flags.DEFINE_list('programs', ['0', '24', '40', '56', '73'],
                  'GM programs to render (0-based), or "all": each of the '
                  f'{len(soundfont.GM_PROGRAMS)} melodic programs with an '
                  'NSynth family (soundfont.GM_PROGRAMS).', flag_values=FLAGS)
flags.DEFINE_integer('pitch_min', 36, 'Lowest MIDI pitch rendered.',
                     flag_values=FLAGS)
flags.DEFINE_integer('pitch_max', 84, 'Highest MIDI pitch rendered.',
                     flag_values=FLAGS)
flags.DEFINE_integer('pitch_step', 1, 'Render every n-th pitch.',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_list('velocities', ['75', '100', '127'], 'MIDI velocities.',
                  flag_values=FLAGS)
flags.DEFINE_boolean('normalize', True, 'Peak-normalize rendered notes.',
                     flag_values=FLAGS)
flags.DEFINE_float('valid_fraction', 0.1, 'Share of notes in the valid split.',
                   flag_values=FLAGS)
flags.DEFINE_float('test_fraction', 0.1, 'Share of notes in the test split.',
                   flag_values=FLAGS)
flags.DEFINE_integer('num_shards', 1, 'TFRecord files per split.',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_boolean('gzip', False, 'GZIP-compress the records.',
                     flag_values=FLAGS)


def program_numbers(names):
  """GM program numbers of the --programs flag: numbers, or 'all'."""
  if [name.lower() for name in names] == ['all']:
    return sorted(soundfont.GM_PROGRAMS)
  try:
    return [int(name) for name in names]
  except ValueError:
    raise MagentaWavenetError(f'--programs takes GM program numbers or '
                              f'"all"; got {",".join(names)}.') from None


def _body(flag_values):
  if not flag_values.output_dir:
    raise MagentaWavenetError('--output_dir is required.')
  if (flag_values.input_dir is None) == (flag_values.soundfont is None):
    raise MagentaWavenetError('give exactly one of --input_dir and '
                              '--soundfont.')
  common = dict(valid_fraction=flag_values.valid_fraction,
                test_fraction=flag_values.test_fraction,
                num_shards=flag_values.num_shards,
                compression='GZIP' if flag_values.gzip else '')
  if flag_values.input_dir:
    counts = builders.build_from_folder(flag_values.input_dir,
                                        flag_values.output_dir, **common)
  else:
    counts = builders.build_from_soundfont(
        flag_values.output_dir, program_numbers(flag_values.programs),
        pitch_range=(flag_values.pitch_min, flag_values.pitch_max),
        velocities=[int(v) for v in flag_values.velocities],
        pitch_step=flag_values.pitch_step,
        soundfont_path=flag_values.soundfont,
        normalize=flag_values.normalize, **common)
  print(', '.join(f'{split}: {count} notes' for split, count in counts.items())
        + f' -> {flag_values.output_dir}')


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
