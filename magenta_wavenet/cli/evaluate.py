r"""Scores a model by resynthesizing held-out NSynth notes.

Each note's first --sample_length samples are encoded, generated back from
the code (`generation.synthesize`), and scored: teacher-forced NLL in bits per
sample, multi-resolution STFT distance, and pitch accuracy (share of the
original's pYIN-voiced frames where the resynthesis is within 50 cents).
Prints a Markdown table, one row per note and the mean.

Usage:
  python -m magenta_wavenet.evaluate --checkpoint_path runs/h64/export \
      --eval_path 'data/nsynth-test-*' --num_notes 8 --sample_length 16000 \
      --save_path eval/
"""

import json
import logging
import os

from absl import flags

from magenta_wavenet.audio import save_wav
from magenta_wavenet.cli import common
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import atomic_write
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
common.define_note_filter_flags(FLAGS, 'scored')
flags.DEFINE_string('save_path', '', 'Optional folder for scores.json and '
                    'the original and resynthesized WAVs.', flag_values=FLAGS)


def table(scores, means):
  """Markdown table of per-note scores and their mean."""
  lines = ['| note | pitch | NLL (bits) | STFT distance | pitch accuracy |',
           '| --- | ---: | ---: | ---: | ---: |']
  for s in scores:
    lines.append(f'| {s.note_str} | {s.pitch} | {s.nll_bits:.3f} | '
                 f'{s.stft_distance:.3f} | {100 * s.pitch_accuracy:.1f}% |')
  lines.append(f'| **mean of {means["notes"]}** | | {means["nll_bits"]:.3f} | '
               f'{means["stft_distance"]:.3f} | '
               f'{100 * means["pitch_accuracy"]:.1f}% |')
  return '\n'.join(lines)


def _body(flag_values):
  if not flag_values.eval_path:
    raise MagentaWavenetError('--eval_path is required.')
  audio, names, pitches = evaluation.held_out_notes(
      flag_values.eval_path, flag_values.num_notes, flag_values.sample_length,
      common.note_filter(flag_values))
  model = common.model_from_flag(flag_values.checkpoint_path)
  logger.info('Resynthesizing %d notes of %d samples.', len(names),
              audio.shape[1])
  scores, resynthesis = evaluation.evaluate(
      model, audio, names, pitches, flag_values.temperature, flag_values.seed,
      flag_values.batch_size)
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
