"""Builds NSynth-format TFRecords from audio files or from a SoundFont.

From a folder of notes named like NSynth's (keyboard_acoustic_004-060-100.wav):

  python -m magenta_wavenet.make_dataset --input_dir notes/ --output_dir data/

From a SoundFont rendered with FluidSynth (3 s held + 1 s release, 16 kHz):

  python -m magenta_wavenet.make_dataset --soundfont \
      /usr/share/sounds/sf2/FluidR3_GM.sf2 --programs 0,24,40,56,73 \
      --pitch_min 36 --pitch_max 84 --velocities 75,127 --output_dir data/
"""

import logging
import sys

from absl import app
from absl import flags

from magenta_wavenet.data import builders
from magenta_wavenet.data import soundfont
from magenta_wavenet.errors import MagentaWavenetError

FLAGS = flags.FLAGS
flags.DEFINE_string('input_dir', None, 'Folder of NSynth-named audio files.')
flags.DEFINE_string('soundfont', None, 'A .sf2 file to render notes from, '
                    f'e.g. {soundfont.DEFAULT_SOUNDFONT}.')
flags.DEFINE_string('output_dir', None, 'Where the TFRecords are written.')
flags.DEFINE_list('programs', ['0', '24', '40', '56', '73'],
                  'GM programs to render (0-based); known: '
                  + ','.join(str(p) for p in sorted(soundfont.GM_PROGRAMS)))
flags.DEFINE_integer('pitch_min', 36, 'Lowest MIDI pitch rendered.')
flags.DEFINE_integer('pitch_max', 84, 'Highest MIDI pitch rendered.')
flags.DEFINE_integer('pitch_step', 1, 'Render every n-th pitch.')
flags.DEFINE_list('velocities', ['75', '100', '127'], 'MIDI velocities.')
flags.DEFINE_boolean('normalize', True, 'Peak-normalize rendered notes.')
flags.DEFINE_float('valid_fraction', 0.1, 'Share of notes in the valid split.')
flags.DEFINE_float('test_fraction', 0.1, 'Share of notes in the test split.')
flags.DEFINE_integer('num_shards', 1, 'TFRecord files per split.')
flags.DEFINE_boolean('gzip', False, 'GZIP-compress the records.')
flags.mark_flag_as_required('output_dir')


def main(argv):
  del argv
  logging.getLogger().setLevel(logging.INFO)
  if (FLAGS.input_dir is None) == (FLAGS.soundfont is None):
    sys.exit('Give exactly one of --input_dir and --soundfont.')
  common = dict(valid_fraction=FLAGS.valid_fraction,
                test_fraction=FLAGS.test_fraction,
                num_shards=FLAGS.num_shards,
                compression='GZIP' if FLAGS.gzip else '')
  try:
    if FLAGS.input_dir:
      counts = builders.build_from_folder(FLAGS.input_dir, FLAGS.output_dir,
                                          **common)
    else:
      counts = builders.build_from_soundfont(
          FLAGS.output_dir, [int(p) for p in FLAGS.programs],
          pitch_range=(FLAGS.pitch_min, FLAGS.pitch_max),
          velocities=[int(v) for v in FLAGS.velocities],
          pitch_step=FLAGS.pitch_step, soundfont_path=FLAGS.soundfont,
          normalize=FLAGS.normalize, **common)
  except MagentaWavenetError as error:
    sys.exit(f'error: {error}')
  print(', '.join(f'{split}: {count} notes' for split, count in counts.items())
        + f' -> {FLAGS.output_dir}')


def run():
  app.run(main)


if __name__ == '__main__':
  run()
