r"""Encodes audio files into NSynth codes saved as `.npy` files.

Takes the flags of Magenta's `nsynth_save_embeddings`, so an existing command
line works with the program name swapped. Each input `<stem>.wav` gives
`<save_path>/<stem>_embeddings.npy`, float32 [frames, 16] (31.25 frames per
second), for every file of every batch; a file that fails is reported on one
line and the others are still encoded. A file quieter than the notes the
model was trained on is raised to their level first (`input_peak`: 0.9 for
the shipped models; Magenta's model takes every file as it is).

Usage:
  # One file, with the shipped model:
  python -m magenta_wavenet save_embeddings \
      --source_path=magenta_wavenet/sounds/nsynth_e5.wav --save_path=output/

  # A folder of WAVs, 4 seconds each, 16 per batch, with the published model:
  python -m magenta_wavenet save_embeddings --source_path=notes/ \
      --save_path=codes/ --checkpoint_path=wavenet-ckpt/model.ckpt-200000 \
      --sample_length=64000 --batch_size=16

  # A glob (quoted) over several folders; same stems get the folder name:
  python -m magenta_wavenet save_embeddings --source_path='notes/*/*.wav' \
      --save_path=codes/
"""

import sys

from absl import flags

from magenta_wavenet import codes
from magenta_wavenet.cli import common
from magenta_wavenet.sound.audio import AUDIO_EXTENSIONS

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
flags.DEFINE_string('expdir', '', 'Accepted for compatibility: a training '
                    'folder whose newest checkpoint is used when '
                    '--checkpoint_path is empty.', flag_values=FLAGS)
flags.DEFINE_string('source_path', '', 'Audio file, folder of audio files, '
                    'or quoted glob.', flag_values=FLAGS)
flags.DEFINE_string('save_path', '', 'Folder for the .npy codes (created).',
                    flag_values=FLAGS)
flags.DEFINE_integer('sample_length', 64000, 'Most samples encoded per file '
                     '(16 kHz); the rest is dropped, then the length is cut '
                     'to whole hops.', lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 16, 'Files encoded per batch.',
                     lower_bound=1, flag_values=FLAGS)
common.define_pipeline_flag(FLAGS)


def _body(flag_values):
  source_path = flag_values.source_path
  if flag_values.pipeline_options is not None and '://' in source_path:
    paths = common.beam_job('files').BEAM_FILES.list_inputs(
        source_path, AUDIO_EXTENSIONS)
  else:
    paths = common.list_inputs(source_path, AUDIO_EXTENSIONS)
  common.make_folder(flag_values.save_path)
  model_name = flag_values.checkpoint_path or flag_values.expdir
  model = common.model_from_flag(model_name)
  common.check_sample_length(flag_values.sample_length,
                             model.config.hop_length)
  outputs = dict(zip(paths, common.output_paths(
      paths, flag_values.save_path, suffix='_embeddings.npy')))
  if flag_values.pipeline_options is None:
    batch = common.Batch('encoded')
    batch.done += codes.save_embeddings(
        model, paths, outputs, flag_values.sample_length,
        flag_values.batch_size, on_error=batch.fail)
    return batch.finish()
  counters, failures = common.beam_job('embeddings').save_embeddings(
      paths, outputs, flag_values.save_path, flag_values.sample_length,
      flag_values.batch_size, flag_values.pipeline_options, model_name)
  common.logger.info('Beam counters: %s.', counters)
  common.print_failures(failures)
  if failures:
    print(f'{len(failures)} of {len(paths)} inputs failed; '
          f'{len(paths) - len(failures)} encoded.', file=sys.stderr)
    return common.EXIT_FAILURE
  return 0


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
