r"""Synthesizes audio from NSynth codes, or resynthesizes audio files.

Takes the flags of Magenta's `nsynth_generate`, so an existing command line
works with the program name swapped. `--source_path` is an audio file, a
`.npy` code, a folder or a quoted glob: audio files are encoded first; a
folder with no audio (or `--npy_only`) uses its `.npy` codes. Each input
`<stem>.wav` / `<stem>.npy` gives `<save_path>/gen_<stem>.wav`, for every
file of every batch. While generating, the audio so far is rewritten every
`--save_every` samples to `gen_<stem>.partial.wav` (listen while it runs;
it survives a crash or Ctrl-C); the finished file replaces it. `--resume`
continues from those partial files: the model is primed with them by
teacher forcing, so with the same `--seed` the result equals an
uninterrupted run. Progress goes to stderr.

Usage:
  # Resynthesize a bundled note with the shipped model (2.5 s):
  python -m magenta_wavenet.generate \
      --source_path=magenta_wavenet/sounds/nsynth_e5.wav --save_path=output/

  # A folder of codes from save_embeddings, 4 at a time, first second only:
  python -m magenta_wavenet.generate --source_path=codes/ --npy_only \
      --save_path=generated/ --batch_size=4 --sample_length=16000 \
      --temperature=0.9 --seed=7

  # Continue a run that was interrupted (same flags, plus --resume):
  python -m magenta_wavenet.generate --source_path=codes/ --npy_only \
      --save_path=generated/ --seed=7 --resume

  # The published model, as with the reference:
  python -m magenta_wavenet.generate --source_path=codes/ \
      --save_path=generated/ --checkpoint_path=wavenet-ckpt/model.ckpt-200000
"""

import logging
import math
import os

from absl import flags
import numpy as np

from magenta_wavenet import cli_common
from magenta_wavenet import generation
from magenta_wavenet.audio import AUDIO_EXTENSIONS
from magenta_wavenet.audio import load_audio
from magenta_wavenet.audio import save_wav
from magenta_wavenet.errors import MagentaWavenetError

logger = logging.getLogger(__name__)

FLAGS = cli_common.new_flags()
cli_common.define_checkpoint_flag(FLAGS)
flags.DEFINE_string('source_path', '', 'Audio or .npy file, folder, or quoted '
                    'glob.', flag_values=FLAGS)
flags.DEFINE_boolean('npy_only', False, 'Use only the .npy codes of '
                     '--source_path, even when it has audio.',
                     flag_values=FLAGS)
flags.DEFINE_boolean('encodings', False, 'Older name of --npy_only.',
                     flag_values=FLAGS)
flags.DEFINE_string('save_path', '', 'Folder for gen_<stem>.wav (created).',
                    flag_values=FLAGS)
flags.DEFINE_integer('sample_length', 64000, 'Most samples generated per file '
                     '(16 kHz); longer codes and audio are cut.',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('batch_size', 1, 'Files generated together (one weight '
                     'read serves the whole batch).', lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_float('temperature', 1.0, 'Softmax temperature; 0 takes the most '
                   'likely sample.', lower_bound=0.0, flag_values=FLAGS)
flags.DEFINE_integer('seed', None, 'Random seed; the same seed gives the '
                     'same audio.', flag_values=FLAGS)
flags.DEFINE_integer('save_every', 10000, 'Rewrite the WAVs after about this '
                     'many samples (at the next chunk end); 0: only at the '
                     'end.', lower_bound=0, flag_values=FLAGS)
flags.DEFINE_boolean('resume', False, 'Continue from the gen_<stem>.partial.wav '
                     'files an interrupted run left in --save_path.',
                     flag_values=FLAGS)
flags.DEFINE_integer('gpu_number', 0, 'Accepted for compatibility; choose the '
                     'GPU with CUDA_VISIBLE_DEVICES instead.',
                     flag_values=FLAGS)


def _codes(model, paths, use_npy, sample_length, batch):
  """(path, code) for the inputs that load; failures go to `batch`."""
  if not use_npy:
    return [(path, code) for path, _, code
            in cli_common.encode_files(model, paths, sample_length, batch)]
  codes = []
  for path in paths:
    try:
      codes.append((path, cli_common.load_code(path, model.config)))
    except cli_common.USER_ERRORS as error:
      batch.fail(path, error)
  return codes


def partial_path(output):
  """Where the audio so far of `output` (gen_<stem>.wav) is kept."""
  return output[:-len('.wav')] + '.partial.wav'


def _partial_writer(outputs, lengths, save_every):
  """on_chunk callback rewriting each partial WAV once per `save_every`
  samples."""
  written = [0]

  def on_chunk(audio, done):
    if save_every and done // save_every > written[0] // save_every:
      written[0] = done
      for output, length, row in zip(outputs, lengths, audio):
        save_wav(partial_path(output), row[:min(done, length)])
      logger.info('Saved %d samples so far.', done)
  return on_chunk


def _resume_prime(outputs, lengths):
  """Audio [batch, samples] to prime with: the partial WAVs of this batch,
  cut to the shortest; None when any of them is missing."""
  paths = [partial_path(output) for output in outputs]
  if not all(os.path.isfile(path) for path in paths):
    return None
  partials = [load_audio(path) for path in paths]
  usable = min([len(p) for p in partials] + [n - 1 for n in lengths])
  if usable < 1:
    return None
  logger.info('Resuming %s from sample %d.', ', '.join(outputs), usable)
  return np.stack([p[:usable] for p in partials])


def generate_files(model, paths, save_path, use_npy, sample_length,
                   batch_size, temperature, seed, save_every, resume=False):
  """Generates gen_<stem>.wav for each input, `batch_size` at a time.

  Returns:
    Exit status: 0, or 1 when any input failed (each named on stderr).
  """
  hop = model.config.hop_length
  if sample_length < hop:
    raise MagentaWavenetError(
        f'--sample_length={sample_length} is shorter than one hop ({hop}).')
  outputs = dict(zip(paths, cli_common.output_paths(
      paths, save_path, prefix='gen_', suffix='.wav')))
  frames_wanted = math.ceil(sample_length / hop)
  batch = cli_common.Batch('generated')
  # One synthesizer for all batches: batches of equal shape reuse its
  # compiled loop.
  synthesizer = generation.Synthesizer(model)
  for start in range(0, len(paths), batch_size):
    items = _codes(model, paths[start:start + batch_size], use_npy,
                   sample_length, batch)
    if not items:
      continue
    codes = [code[:frames_wanted] for _, code in items]
    lengths = [min(sample_length, len(code) * hop) for code in codes]
    frames = max(len(code) for code in codes)
    padded = np.stack([np.pad(code, [[0, frames - len(code)], [0, 0]])
                       for code in codes])
    names = [outputs[path] for path, _ in items]
    logger.info('Batch %d: generating %s samples for %s.',
                start // batch_size + 1, max(lengths), ', '.join(
                    path for path, _ in items))
    audio = synthesizer.generate(
        padded, temperature=temperature, seed=seed, lengths=lengths,
        prime=_resume_prime(names, lengths) if resume else None,
        progress=cli_common.log_progress,
        on_chunk=_partial_writer(names, lengths, save_every))
    for (path, _), name, length, row in zip(items, names, lengths, audio):
      with batch.item(path):
        save_wav(name, row[:length])
        if os.path.exists(partial_path(name)):
          os.remove(partial_path(name))
        print(f'{path} -> {name}')
  return batch.finish()


def _body(flag_values):
  use_npy = flag_values.npy_only or flag_values.encodings
  paths = cli_common.list_inputs(
      flag_values.source_path,
      ('.npy',) if use_npy else AUDIO_EXTENSIONS + ('.npy',))
  if not use_npy:  # as the reference: audio files win over codes
    audio = [p for p in paths
             if p.lower().endswith(AUDIO_EXTENSIONS)]
    paths, use_npy = (audio, False) if audio else (paths, True)
  if flag_values.gpu_number:
    logger.warning('--gpu_number is ignored; set CUDA_VISIBLE_DEVICES.')
  cli_common.make_folder(flag_values.save_path)
  model = cli_common.model_from_flag(flag_values.checkpoint_path)
  return generate_files(
      model, paths, flag_values.save_path, use_npy, flag_values.sample_length,
      flag_values.batch_size, flag_values.temperature, flag_values.seed,
      flag_values.save_every, flag_values.resume)


def main(argv=None):
  """Console entry point; returns the exit status."""
  return cli_common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
