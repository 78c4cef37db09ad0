r"""Makes an instrument: a sample pack of timbres mixed from 2 or 4 sounds.

As NSynth Super played them: the sounds are rendered offline and any SFZ
sampler then plays them instantly. 2 --sources give a line of --points
timbres from the first to the second; 4 give a --points x --points bilinear
grid with the sources at its corners (top-left, top-right, bottom-left,
bottom-right). Each point is rendered at every MIDI pitch of --pitches, for
--note_length. --save_path then holds

    manifest.json                          sources and their pitch, grid
                                           weights, pitches, model, seed
                                           (and --harmonic_filter_db,
                                           --retry_off_pitch,
                                           --expected_value)
    samples/p{row}_{col}_m{pitch:03d}.wav  one note per point and pitch
    p{row}_{col}.sfz                       one instrument per point: every
                                           MIDI key plays its nearest pitch

Each source is pitch-shifted to each note's pitch and encoded there, then
mixed; a pitch-conditioned model also hears the note's pitch.
Progress and the time left are logged after each batch. After Ctrl-C, run
the same command again: the notes written are kept and the rest rendered as
an uninterrupted run would have (keep --seed and --batch_size; left out, a
rerun takes the pack's own).

--harmonic_filter_db=20 takes 20 dB off the model's noise between each
note's harmonics as it is written (`harmonics.harmonic_filter`).
--retry_off_pitch generates a note that comes back off its pitch (locked to
a wrong partial, or with none) again from its sources shifted a semitone or
two further, then shifts it back; each retry is logged. --expected_value
writes each note's samples as the expected values of the distributions they
were drawn from (`generation.synthesize`'s `expected_value`).

Usage:
  # Two bundled notes, 5 timbres from E5's to A1's, at C3, C4 and C5:
  python -m magenta_wavenet instrument --sources=nsynth_e5,nsynth_a1 \
      --points=5 --pitches=48,60,72 --note_length=1s --seed=1 \
      --save_path=packs/e5_a1

  # Sounds the model never heard: retry the notes that lock to a partial.
  python -m magenta_wavenet instrument --sources=organ.wav,trumpet.wav \
      --points=3 --pitches=55,67 --retry_off_pitch --save_path=packs/brass

  # A 3 x 3 grid of four sounds with the published model, 2 s notes:
  python -m magenta_wavenet instrument --sources=a.wav,b.wav,c.wav,d.wav \
      --points=3 --pitches=36,48,60,72,84 --note_length=2s \
      --checkpoint_path=h512_bo16 --save_path=packs/grid
"""

import sys

from absl import flags

from magenta_wavenet import sample_pack
from magenta_wavenet.cli import common
from magenta_wavenet.synthesis import litert

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
flags.DEFINE_list('sources', [], '2 or 4 audio files or bundled sounds '
                  '(nsynth_e5, nsynth_a1, nsynth_b4).', flag_values=FLAGS)
flags.DEFINE_integer('points', 3, 'Grid points per side.', lower_bound=2,
                     flag_values=FLAGS)
flags.DEFINE_list('pitches', ['48', '60', '72'], 'MIDI pitches to render.',
                  flag_values=FLAGS)
flags.DEFINE_string('note_length', '1s', 'Length of each note: seconds with '
                    'an s (1.5s) or samples (24000).', flag_values=FLAGS)
flags.DEFINE_integer('seed', None, 'Random seed; default: the pack\'s own, '
                     'or a new one.', lower_bound=0, flag_values=FLAGS)
flags.DEFINE_integer('batch_size', None, 'Notes generated together; '
                     'default: the pack\'s own, or '
                     f'{sample_pack.DEFAULT_BATCH_SIZE}.', lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_enum('weights', None, litert.WEIGHT_FORMATS, 'Decoder weights '
                  'while generating; default: the pack\'s own, or the '
                  'fastest for the model and batch on this machine '
                  '(batch_choice.best_format).',
                  flag_values=FLAGS)
flags.DEFINE_string('save_path', '', 'Folder of the sample pack.',
                    flag_values=FLAGS)
common.define_harmonic_filter_flag(FLAGS, pack=True)
common.define_retry_flag(FLAGS, pack=True)
common.define_expected_value_flag(FLAGS, pack=True)
common.define_pipeline_flag(FLAGS)


def _body(flag_values):
  sample_pack.check_source_count(len(flag_values.sources))
  sample_pack.check_pitches(flag_values.pitches)
  settings = dict(seed=flag_values.seed, batch_size=flag_values.batch_size,
                  model_name=flag_values.checkpoint_path or None,
                  decoder_weights=flag_values.weights,
                  harmonic_filter_db=flag_values.harmonic_filter_db,
                  retry_off_pitch=flag_values.retry_off_pitch,
                  expected_value=flag_values.expected_value)
  common.make_folder(flag_values.save_path)
  beam_pack = (None if flag_values.pipeline_options is None
               else common.beam_job('pack'))
  model = common.model_from_flag(flag_values.checkpoint_path)
  if beam_pack is None:
    manifest = sample_pack.render_pack(
        model, flag_values.sources, flag_values.save_path, flag_values.points,
        flag_values.pitches, flag_values.note_length,
        progress=common.log_progress, **settings)
  else:
    manifest, counters, failures = beam_pack.render_pack(
        model, flag_values.sources, flag_values.save_path, flag_values.points,
        flag_values.pitches, flag_values.note_length,
        flag_values.pipeline_options, **settings)
    common.logger.info('Beam counters: %s.', counters)
    if failures:
      common.print_failures(failures)
      print(f'{len(failures)} batches failed; {flag_values.save_path} is '
            'not complete: run the same command again to finish it.',
            file=sys.stderr)
      return common.EXIT_FAILURE
  print(f'wrote {len(manifest["samples"])} notes and '
        f'{len(manifest["grid"]["points"])} SFZ instruments to '
        f'{flag_values.save_path}')
  return 0


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
