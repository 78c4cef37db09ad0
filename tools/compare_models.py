r"""Scores several models on the same held-out notes: the model card's table.

Each model resynthesizes the same notes (encoded, then generated sample by
sample with each of `--seeds`, at each of `--temperatures`) from up to three
sets, and the means of `training.evaluation` are printed as one Markdown
table: NLL in bits, multi-resolution STFT distance, pYIN pitch accuracy
within 50 cents, and three measures of timbre (`python -m
magenta_wavenet.evaluate --help` defines them): the share of the notes
identified (each resynthesis's long-term log-mel spectrum nearest to its own
original's among the notes of its MIDI pitch; chance in brackets, '-' when
no two notes share a pitch), the harmonic-to-noise ratio's gap (the
original's HNR less the resynthesis's, dB, at the original's harmonics),
the share of the notes locked to a wrong partial (3 f0, f0 / 2, 3/2
f0...), and with `--follow_semitones` (a pitch-conditioned model) the share
of the resyntheses from each note's own code with only the pitch moved that
play the moved pitch, and of those from the note shifted to that pitch and
encoded there, as `instrument`, `mix --pitch` and `generate --pitch` play a
sound at another pitch ('-' without it). `--harmonic_filter_db` scores every
resynthesis after the harmonic filter (`harmonics.harmonic_filter`, as
`generate --harmonic_filter_db`), and the rows name it, as they name
`--retry_off_pitch` (`generate --retry_off_pitch`) and `--expected_value`
(`generate --expected_value`). Whether a
resynthesis keeps the pitch depends much on the sampler's luck, so with
several seeds each row gives the mean over seeds and the pitch accuracy's
range (lowest-highest seed):

* `--test_path`: the test split of the training render (instruments seen in
  training, notes not);
* `--unseen_path`: notes of a sample set absent from training (another
  SoundFont);
* `--real_notes`: an .npy [notes, samples] of real recorded notes; each
  is cut to `--sample_length` samples after the first `--real_offset` (past
  the attack) and scaled to a peak of `--real_peak` (`REAL_PEAK`; a model
  raises quieter notes to its `input_peak` before it encodes them, and
  lowers the resynthesis back, as the commands do). Without
  `--real_labels` (NSynth's unlabelled notes) they are named real_00, ...
  and pitched by pYIN; with it, the JSON that `python -m tools.real_sets`
  writes beside the .npy gives the set's name and each note's name and
  MIDI pitch.

Usage:
  python -m tools.compare_models --models h64_bo16,runs/pitch \
      --test_path 'data/fluidr3/nsynth-test-*' \
      --unseen_path 'data/timgm/nsynth-*' \
      --real_notes example_nsynth_audio.npy --seeds 0,1,2 \
      --save_path eval/compare.json
  python -m tools.compare_models --models h64_bo16_pitch \
      --real_notes real/organ.npy --real_labels real/organ.json \
      --follow_semitones=-12
"""

import json

from absl import flags
import numpy as np

from magenta_wavenet.cli import common
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import atomic_write
from magenta_wavenet.model import pretrained
from magenta_wavenet.sound.pitch import note_pitch
from magenta_wavenet.training import evaluation

REAL_PEAK = 0.8

FLAGS = common.new_flags()
flags.DEFINE_list('models', ['h64_bo16'], 'Model names or checkpoint paths.',
                  flag_values=FLAGS)
flags.DEFINE_string('test_path', '', 'TFRecords of the seen sample set\'s '
                    'test split.', flag_values=FLAGS)
flags.DEFINE_string('unseen_path', '', 'TFRecords of a sample set absent '
                    'from training.', flag_values=FLAGS)
flags.DEFINE_string('real_notes', '', '.npy [notes, samples] of real notes.',
                    flag_values=FLAGS)
flags.DEFINE_string('real_labels', '', 'JSON of the --real_notes\' set '
                    'name, note names and MIDI pitches (tools.real_sets).',
                    flag_values=FLAGS)
flags.DEFINE_integer('real_offset', 2048, 'Samples skipped at the start of '
                     'each real note.', flag_values=FLAGS)
flags.DEFINE_float('real_peak', REAL_PEAK, 'Peak each real note is scaled '
                   'to.', lower_bound=1e-4, upper_bound=1.0,
                   flag_values=FLAGS)
flags.DEFINE_integer('num_notes', 16, 'Notes per TFRecord set.',
                     flag_values=FLAGS)
flags.DEFINE_integer('sample_length', 16000, 'Samples per note.',
                     flag_values=FLAGS)
flags.DEFINE_list('seeds', ['0'], 'Sampling seeds; each row is the mean '
                  'over them.', flag_values=FLAGS)
flags.DEFINE_list('temperatures', ['1.0'], 'Sampling temperatures; each '
                  'model is scored at each.', flag_values=FLAGS)
common.define_follow_flag(FLAGS)
common.define_harmonic_filter_flag(FLAGS)
common.define_retry_flag(FLAGS)
common.define_expected_value_flag(FLAGS)
flags.DEFINE_string('save_path', '', 'Optional JSON of every score.',
                    flag_values=FLAGS)

REAL_SET = 'real NSynth notes'


def real_notes(path, offset, length, labels='', peak=REAL_PEAK):
  """Real notes as (audio [notes, length], names, MIDI pitches, set name).

  Args:
    path: .npy [notes, samples] of 16 kHz notes.
    offset, length: Each note's samples kept, from the offset.
    labels: Optional JSON of `tools.real_sets` (the set's name, and each
      note's name and MIDI pitch); without it the notes are named real_00,
      ..., pitched by pYIN, and the set is `REAL_SET`.
    peak: The peak each note is scaled to.
  """
  audio = np.load(path, allow_pickle=False)[:, offset:offset + length]
  audio = (audio * peak / np.max(np.abs(audio), axis=1, keepdims=True)
           ).astype(np.float32)
  if labels:
    with open(labels) as handle:
      meta = json.load(handle)
    if len(meta['notes']) != len(audio):
      raise MagentaWavenetError(
          f'{labels} names {len(meta["notes"])} notes, {path} holds '
          f'{len(audio)}.')
    return (audio, [note['name'] for note in meta['notes']],
            [note['pitch'] for note in meta['notes']], meta['set'])
  names = [f'real_{index:02d}' for index in range(len(audio))]
  return audio, names, [note_pitch(note) for note in audio], REAL_SET


def note_sets(flag_values):
  """{set name: (audio, names, pitches)} of the sets given by flags."""
  sets = {}
  for name, pattern in (('seen instruments, test split',
                         flag_values.test_path),
                        ('unseen sample set', flag_values.unseen_path)):
    if pattern:
      sets[name] = evaluation.held_out_notes(
          pattern, flag_values.num_notes, flag_values.sample_length)
  if flag_values.real_notes:
    *notes, name = real_notes(
        flag_values.real_notes, flag_values.real_offset,
        flag_values.sample_length, flag_values.real_labels,
        flag_values.real_peak)
    sets[name] = tuple(notes)
  if not sets:
    raise MagentaWavenetError(
        'give at least one of --test_path, --unseen_path, --real_notes.')
  return sets


def mean_over_seeds(summaries):
  """The mean of each measure over `evaluation.summary` dicts of seeds."""
  return {key: (summaries[0][key] if key == 'notes' else
                float(np.mean([summary[key] for summary in summaries])))
          for key in summaries[0]}


def row_text(model_name, temperature, set_name, means, accuracies):
  """One table row; the pitch accuracy's range when there are several
  seeds' `accuracies`."""
  spread = (f' ({100 * min(accuracies):.1f}-{100 * max(accuracies):.1f})'
            if len(accuracies) > 1 else '')
  chance = ('' if np.isnan(means['identification']) else
            f' ({evaluation.percent(means["identification_chance"])})')
  return (f'| {model_name} | {temperature:g} | {set_name} | '
          f'{means["notes"]} | {means["nll_bits"]:.2f} | '
          f'{means["stft_distance"]:.2f} | '
          f'{100 * means["pitch_accuracy"]:.1f}%{spread} | '
          f'{evaluation.percent(means["identification"])}{chance} | '
          f'{means["hnr_gap_db"]:.1f} | '
          f'{evaluation.percent(means["locked"])} | '
          f'{evaluation.percent(means["follows"])} | '
          f'{evaluation.percent(means["follows_shifted"])} |')


def _body(flag_values):
  follow = common.follow_semitones(flag_values)
  sets = note_sets(flag_values)
  seeds = [int(seed) for seed in flag_values.seeds]
  results = []
  print('| model | temperature | notes | n | NLL (bits) | STFT distance '
        '| pitch accuracy | identified (chance) | HNR gap (dB) | locked '
        '| follows | follows shifted |')
  print('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
        '| ---: | ---: |')
  for model_name in flag_values.models:
    model = pretrained.load_model(model_name)
    label = model_name + (
        ' + expected value' if flag_values.expected_value else '') + (
            ' + retry off pitch' if flag_values.retry_off_pitch else '') + (
                f' + harmonic filter {flag_values.harmonic_filter_db:g} dB'
                if flag_values.harmonic_filter_db else '')
    for temperature in map(float, flag_values.temperatures):
      for set_name, (audio, names, pitches) in sets.items():
        runs = [{'seed': seed, 'mean': evaluation.summary(scores),
                 'notes': [score.__dict__ for score in scores]}
                for seed, (scores, _) in zip(seeds, evaluation.evaluate_seeds(
                    model, audio, names, pitches, temperature, seeds,
                    follow_semitones=follow,
                    harmonic_filter_db=flag_values.harmonic_filter_db,
                    retry_off_pitch=flag_values.retry_off_pitch,
                    expected_value=flag_values.expected_value))]
        means = mean_over_seeds([run['mean'] for run in runs])
        print(row_text(label, temperature, set_name, means,
                       [run['mean']['pitch_accuracy'] for run in runs]),
              flush=True)
        results.append({'model': model_name, 'temperature': temperature,
                        'harmonic_filter_db': flag_values.harmonic_filter_db,
                        'retry_off_pitch': flag_values.retry_off_pitch,
                        'expected_value': flag_values.expected_value,
                        'set': set_name, 'mean': means, 'runs': runs})
  if flag_values.save_path:
    def write(path):
      with open(path, 'w') as handle:
        json.dump(results, handle, indent=2)
    atomic_write(flag_values.save_path, write)


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
