r"""Encodes audio files into NSynth codes saved as `.npy` files.

Takes the flags of Magenta's `nsynth_save_embeddings`, so an existing command
line works with the program name swapped. Each input `<stem>.wav` gives
`<save_path>/<stem>_embeddings.npy`, float32 [frames, 16] (31.25 frames per
second), for every file of every batch; a file that fails is reported on one
line and the others are still encoded.

Usage:
  # One file, with the shipped model:
  python -m magenta_wavenet.save_embeddings \
      --source_path=magenta_wavenet/sounds/nsynth_e5.wav --save_path=output/

  # A folder of WAVs, 4 seconds each, 16 per batch, with the published model:
  python -m magenta_wavenet.save_embeddings --source_path=notes/ \
      --save_path=codes/ --checkpoint_path=wavenet-ckpt/model.ckpt-200000 \
      --sample_length=64000 --batch_size=16

  # A glob (quoted) over several folders; same stems get the folder name:
  python -m magenta_wavenet.save_embeddings --source_path='notes/*/*.wav' \
      --save_path=codes/
"""

import logging

from absl import flags

from magenta_wavenet import cli_common
from magenta_wavenet.audio import AUDIO_EXTENSIONS
from magenta_wavenet.errors import MagentaWavenetError

logger = logging.getLogger(__name__)

FLAGS = cli_common.new_flags()
cli_common.define_checkpoint_flag(FLAGS)
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


def save_embeddings(model, paths, save_path, sample_length, batch_size):
  """Encodes `paths` in batches and saves one code per file.

  Returns:
    Exit status: 0, or 1 when any file failed (each named on stderr).
  """
  cli_common.make_folder(save_path)
  hop = model.config.hop_length
  if sample_length < hop:
    raise MagentaWavenetError(
        f'--sample_length={sample_length} is shorter than one hop ({hop}).')
  outputs = dict(zip(paths, cli_common.output_paths(
      paths, save_path, suffix='_embeddings.npy')))
  batch = cli_common.Batch('encoded')
  for start in range(0, len(paths), batch_size):
    chunk = paths[start:start + batch_size]
    logger.info('Batch %d: files %d to %d of %d.', start // batch_size + 1,
                start + 1, start + len(chunk), len(paths))
    for path, _, code in cli_common.encode_files(model, chunk, sample_length,
                                                 batch):
      with batch.item(path):
        cli_common.save_code(outputs[path], code)
        logger.info('%s -> %s %s', path, outputs[path], list(code.shape))
  return batch.finish()


def _body(flag_values):
  paths = cli_common.list_inputs(flag_values.source_path,
                                 AUDIO_EXTENSIONS)
  cli_common.make_folder(flag_values.save_path)
  model = cli_common.model_from_flag(flag_values.checkpoint_path
                                     or flag_values.expdir)
  return save_embeddings(model, paths, flag_values.save_path,
                         flag_values.sample_length, flag_values.batch_size)


def main(argv=None):
  """Console entry point; returns the exit status."""
  return cli_common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
