r"""Draws a sound's waveform above its NSynth code, as a PNG.

The code is the 16 channels over time (31.25 frames per second) on the same
time axis as the waveform, in seconds; a pitch-conditioned model's code
names its pitch (the last channel) in the title instead. Give an audio file
and its `.npy` code (from save_embeddings), or only audio files and they are
encoded with the model first.

Usage:
  # Audio and its code, no model needed:
  python -m magenta_wavenet plot --source_path=output/nsynth_e5.wav \
      --code=output/nsynth_e5_embeddings.npy --save_path=output/e5.png

  # Every WAV of a folder, encoded with the shipped model, one PNG each:
  python -m magenta_wavenet plot --source_path=notes/ --save_path=plots/
"""

import logging
import os

from absl import flags

from magenta_wavenet import codes
from magenta_wavenet import plotting
from magenta_wavenet.cli import common
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.sound.audio import AUDIO_EXTENSIONS
from magenta_wavenet.sound.audio import SAMPLE_RATE
from magenta_wavenet.sound.audio import load_audio

logger = logging.getLogger(__name__)

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
flags.DEFINE_string('source_path', '', 'Audio file, folder of audio files, '
                    'or quoted glob.', flag_values=FLAGS)
flags.DEFINE_string('code', '', 'The code (.npy) of --source_path, a '
                    'single file; without it the audio is encoded.',
                    flag_values=FLAGS)
flags.DEFINE_string('save_path', '', 'A .png file (one input) or a folder '
                    'for <stem>.png files.', flag_values=FLAGS)
flags.DEFINE_integer('sample_length', 64000, 'Most samples encoded per file.',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('hop_length', 512, 'Samples per code frame, used with '
                     '--code (the model tells it otherwise).',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_boolean('pitched', False, 'The --code is a pitch-'
                     'conditioned model\'s: its last channel is the MIDI '
                     'pitch (the model tells it otherwise).',
                     flag_values=FLAGS)


def _png_paths(paths, save_path):
  if save_path.lower().endswith('.png'):
    if len(paths) > 1:
      raise MagentaWavenetError(
          f'--save_path={save_path} is one file but there are {len(paths)} '
          'inputs; give a folder.')
    folder = os.path.dirname(save_path)
    if folder:
      common.make_folder(folder)
    return [save_path]
  common.make_folder(save_path)
  return common.output_paths(paths, save_path, suffix='.png')


def _body(flag_values):
  paths = common.list_inputs(flag_values.source_path, AUDIO_EXTENSIONS)
  if not flag_values.save_path:
    raise MagentaWavenetError('--save_path is required.')
  pngs = dict(zip(paths, _png_paths(paths, flag_values.save_path)))
  batch = common.Batch('plotted')
  if flag_values.code:
    if len(paths) > 1:
      raise MagentaWavenetError('--code goes with one audio file, not '
                                f'{len(paths)}.')
    code = codes.load_code(flag_values.code)
    audio = load_audio(paths[0], SAMPLE_RATE)
    items = [(paths[0], audio, code)]
    hop, rate = flag_values.hop_length, SAMPLE_RATE
    pitched = flag_values.pitched
  else:
    model = common.model_from_flag(flag_values.checkpoint_path)
    items = codes.encode_files(model, paths, flag_values.sample_length,
                               batch.fail)
    hop, rate = model.config.hop_length, model.config.sample_rate
    pitched = model.config.pitch_classes > 0
  for path, audio, code in items:
    with batch.item(path):
      plotting.save_plot(pngs[path], audio, code, sample_rate=rate,
                         hop_length=hop, title=os.path.basename(path),
                         pitched=pitched)
      print(f'{path} -> {pngs[path]}')
  return batch.finish()


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
