r"""Scores a model by resynthesizing held-out NSynth notes.

Each note's first --sample_length samples are encoded, generated back from
the code (`generation.synthesize`), and scored (`training.metrics`):

* NLL: teacher-forced, bits per sample;
* STFT distance: multi-resolution, to the original;
* pitch accuracy: the share of the original's pYIN-voiced frames where the
  resynthesis is within 50 cents;
* identified: whether the resynthesis's long-term average log-mel spectrum
  (64 bands, 40-7600 Hz, loud frames, level-normalised, floored 40 dB
  below its loudest band) is nearest to its own original's among the
  notes of its MIDI pitch ('-' for a note alone at its pitch; the mean is
  the share identified, against chance 1 / notes of the pitch: give
  several instruments at one pitch, e.g. --pitch_min 60 --pitch_max 60);
* HNR: the harmonic-to-noise ratio of the original and of the resynthesis
  at the harmonics of the original's pYIN f0 (energy within a quarter of f0
  of each harmonic over the noise between them, median over voiced
  frames, dB), and the gap between them;
* partial: which partial of the pitch the model was given the resynthesis
  plays, by its median pYIN f0 within 50 cents: '1' the pitch, a ratio
  such as '3', '1/2' or '3/2' a wrong partial it locked to (the mean: the
  share locked), 'other' or 'unvoiced'; the ratio of the f0 to the pitch in
  brackets;
* follows (with --follow_semitones, a pitch-conditioned model): each note
  is generated once more per move, from its own code with only the pitch
  moved (e.g. -12, an octave down); the share of those that play the moved
  pitch, where a decoder that takes its pitch from the code plays the
  note's own;
* follows shifted: the same share when the note itself is shifted to the
  moved pitch and encoded there, as `instrument`, `mix --pitch` and
  `generate --pitch` play a sound at another pitch (one more generation
  per move).

With --harmonic_filter_db each resynthesis is filtered as `generate`'s
--harmonic_filter_db filters it before it is scored (and saved); with
--retry_off_pitch the notes that do not play their pitch are retried as
`generate --retry_off_pitch` retries them; with --expected_value each
resynthesis is its samples' expected values, as `generate --expected_value`
writes them.

Prints a Markdown table, one row per note and the mean.

Usage:
  python -m magenta_wavenet evaluate --checkpoint_path runs/h64/export \
      --eval_path 'data/nsynth-test-*' --num_notes 8 --sample_length 16000 \
      --save_path eval/
"""

import json
import logging
import os

from absl import flags
import numpy as np

from magenta_wavenet.cli import common
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import atomic_write
from magenta_wavenet.sound.audio import save_wav
from magenta_wavenet.training import evaluation

logger = logging.getLogger(__name__)

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
flags.DEFINE_string('eval_path', None, 'TFRecords of held-out notes.',
                    flag_values=FLAGS)
flags.DEFINE_integer('num_notes', 8, 'Notes scored, spread over the set.',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('sample_length', 16000, 'Samples of each note, from its '
                     'start.', lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 8, 'Notes generated at once.',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_float('temperature', 1.0, 'Sampling temperature.',
                   flag_values=FLAGS)
flags.DEFINE_integer('seed', 0, 'Sampling seed.', flag_values=FLAGS)
common.define_follow_flag(FLAGS)
common.define_harmonic_filter_flag(FLAGS)
common.define_retry_flag(FLAGS)
common.define_expected_value_flag(FLAGS)
common.define_note_filter_flags(FLAGS, 'scored')
flags.DEFINE_string('save_path', '', 'Optional folder for scores.json and '
                    'the original and resynthesized WAVs.', flag_values=FLAGS)


def table(scores, means):
  """Markdown table of per-note scores and their mean."""
  lines = ['| note | pitch | NLL (bits) | STFT distance | pitch accuracy | '
           'identified | HNR original / resynthesis (dB) | HNR gap (dB) | '
           'partial | follows | follows shifted |',
           '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | '
           '---: | ---: |']
  for s in scores:
    identified = '-' if np.isnan(s.identified) else (
        'yes' if s.identified else 'no')
    ratio = '' if np.isnan(s.f0_ratio) else f' ({s.f0_ratio:.2f})'
    lines.append(f'| {s.note_str} | {s.pitch} | {s.nll_bits:.3f} | '
                 f'{s.stft_distance:.3f} | '
                 f'{evaluation.percent(s.pitch_accuracy)} | {identified} | '
                 f'{s.original_hnr_db:.1f} / {s.hnr_db:.1f} | '
                 f'{s.hnr_gap_db:.1f} | {s.partial}{ratio} | '
                 f'{evaluation.percent(s.follows)} | '
                 f'{evaluation.percent(s.follows_shifted)} |')
  chance = ('' if np.isnan(means['identification']) else
            f' (chance {evaluation.percent(means["identification_chance"])})')
  lines.append(f'| **mean of {means["notes"]}** | | {means["nll_bits"]:.3f} | '
               f'{means["stft_distance"]:.3f} | '
               f'{evaluation.percent(means["pitch_accuracy"])} | '
               f'{evaluation.percent(means["identification"])}{chance} | '
               f'{means["original_hnr_db"]:.1f} / {means["hnr_db"]:.1f} | '
               f'{means["hnr_gap_db"]:.1f} | '
               f'{evaluation.percent(means["locked"])} locked | '
               f'{evaluation.percent(means["follows"])} | '
               f'{evaluation.percent(means["follows_shifted"])} |')
  return '\n'.join(lines)


def _body(flag_values):
  if not flag_values.eval_path:
    raise MagentaWavenetError('--eval_path is required.')
  follow = common.follow_semitones(flag_values)
  audio, names, pitches = evaluation.held_out_notes(
      flag_values.eval_path, flag_values.num_notes, flag_values.sample_length,
      common.note_filter(flag_values))
  model = common.model_from_flag(flag_values.checkpoint_path)
  logger.info('Resynthesizing %d notes of %d samples.', len(names),
              audio.shape[1])
  scores, resynthesis = evaluation.evaluate(
      model, audio, names, pitches, flag_values.temperature, flag_values.seed,
      flag_values.batch_size, follow, flag_values.harmonic_filter_db,
      flag_values.retry_off_pitch, flag_values.expected_value)
  means = evaluation.summary(scores)
  print(table(scores, means))
  if flag_values.save_path:
    common.make_folder(flag_values.save_path)
    for name, original, generated in zip(names, audio, resynthesis):
      save_wav(os.path.join(flag_values.save_path, f'{name}_original.wav'),
               original)
      save_wav(os.path.join(flag_values.save_path, f'{name}_resynthesis.wav'),
               generated)
    def write(path):
      with open(path, 'w') as out:
        json.dump({'mean': means,
                   'notes': [s.__dict__ for s in scores]}, out, indent=2)
    atomic_write(os.path.join(flag_values.save_path, 'scores.json'), write)


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
