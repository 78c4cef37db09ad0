r"""Synthesizes audio from NSynth codes, or resynthesizes audio files.

Takes the flags of Magenta's `nsynth_generate`, so an existing command line
works with the program name swapped. `--source_path` is an audio file, a
`.npy` code, a folder or a quoted glob: audio files are encoded first (one
quieter than the model's training notes raised to their level, and its
resynthesis lowered back: `codes.encode_at_level`); a folder with no audio
(or `--npy_only`) uses its `.npy` codes. Each input `<stem>.wav` /
`<stem>.npy` gives `<save_path>/gen_<stem>.wav`, for every file of every
batch. While generating, the audio so far is rewritten every
`--save_every` samples to `gen_<stem>.partial.wav` (listen while it runs;
it survives a crash or Ctrl-C); the finished file replaces it. `--resume`
continues from those partial files: the model is primed with them by
teacher forcing, so with the same `--seed` the result equals an
uninterrupted run. Progress goes to stderr. Without `--batch_size`, files
go as many at a time as the benchmark found fastest per sample on this
machine (`magenta_wavenet.synthesis.batch_choice`; 16 if it never ran),
which the log says.

The default model is pitch-conditioned: its codes have 17 channels, the
last one the MIDI pitch. A 16-channel code (from a model without pitch,
such as Magenta's h512_bo16 or the shipped h64_bo16) plays on it with
`--pitch=N`, appended as that channel; `--pitch` also replaces the pitch of
17-channel codes, and audio inputs are shifted from their own (pYIN's)
pitch to it before they are encoded, so that code and pitch agree (the
model plays a code whose pitch channel alone was moved far less often at
that pitch). Models without pitch refuse `--pitch`.

Usage:
  # Resynthesize a bundled note with the shipped model (2.5 s):
  python -m magenta_wavenet generate \
      --source_path=magenta_wavenet/sounds/nsynth_e5.wav --save_path=output/

  # A folder of codes from save_embeddings, 4 at a time, first second only:
  python -m magenta_wavenet generate --source_path=codes/ --npy_only \
      --save_path=generated/ --batch_size=4 --sample_length=16000 \
      --temperature=0.9 --seed=7

  # Less of the model's noise between the harmonics (20 dB off there):
  python -m magenta_wavenet generate \
      --source_path=magenta_wavenet/sounds/nsynth_e5.wav --save_path=output/ \
      --harmonic_filter_db=20

  # Each sample's expected value instead of the draw (the unpredictable
  # part of each sample out; the draws still drive the next steps):
  python -m magenta_wavenet generate \
      --source_path=magenta_wavenet/sounds/nsynth_e5.wav --save_path=output/ \
      --expected_value

  # Notes that come back off their pitch (a wrong partial, or on fewer
  # than 90% of the input's voiced frames) generated again from the note
  # moved a semitone or two, then moved back:
  python -m magenta_wavenet generate --source_path=notes/ \
      --save_path=generated/ --retry_off_pitch

  # Continue a run that was interrupted (same flags, plus --resume):
  python -m magenta_wavenet generate --source_path=codes/ --npy_only \
      --save_path=generated/ --seed=7 --resume

  # A 16-channel code (e.g. from Magenta's save_embeddings) on the
  # default pitch-conditioned model, played at MIDI 48:
  python -m magenta_wavenet generate --source_path=code.npy --npy_only \
      --save_path=generated/ --pitch=48

  # The published model, as with the reference:
  python -m magenta_wavenet generate --source_path=codes/ \
      --save_path=generated/ --checkpoint_path=wavenet-ckpt/model.ckpt-200000
"""

import logging

from absl import flags

from magenta_wavenet import resynthesis
from magenta_wavenet.cli import common
from magenta_wavenet.sound.audio import AUDIO_EXTENSIONS
from magenta_wavenet.synthesis import batch_choice

logger = logging.getLogger(__name__)

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
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
flags.DEFINE_integer('batch_size', None, 'Files generated together (one '
                     'weight read serves the whole batch); default: the '
                     'batch the benchmark found fastest per sample on this '
                     'machine (batch_choice).', lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_float('temperature', 1.0, 'Softmax temperature; 0 takes the most '
                   'likely sample.', lower_bound=0.0, flag_values=FLAGS)
flags.DEFINE_integer('seed', None, 'Random seed; the same seed gives the '
                     'same audio.', flag_values=FLAGS)
flags.DEFINE_integer('save_every', 10000, 'Rewrite the WAVs after about this '
                     'many samples (at the next chunk end); 0: only at the '
                     'end.', lower_bound=0, flag_values=FLAGS)
flags.DEFINE_boolean('resume', False, 'Continue from the '
                     'gen_<stem>.partial.wav files an interrupted run left '
                     'in --save_path.',
                     flag_values=FLAGS)
common.define_weights_flag(FLAGS)
common.define_pitch_flag(FLAGS)
common.define_harmonic_filter_flag(FLAGS)
common.define_expected_value_flag(FLAGS)
common.define_retry_flag(FLAGS)
flags.DEFINE_integer('gpu_number', 0, 'Accepted for compatibility; choose the '
                     'GPU with CUDA_VISIBLE_DEVICES instead.',
                     flag_values=FLAGS)


def _body(flag_values):
  use_npy = flag_values.npy_only or flag_values.encodings
  paths = common.list_inputs(
      flag_values.source_path,
      ('.npy',) if use_npy else AUDIO_EXTENSIONS + ('.npy',))
  if not use_npy:  # as the reference: audio files win over codes
    audio = [p for p in paths
             if p.lower().endswith(AUDIO_EXTENSIONS)]
    paths, use_npy = (audio, False) if audio else (paths, True)
  if flag_values.gpu_number:
    logger.warning('--gpu_number is ignored; set CUDA_VISIBLE_DEVICES.')
  common.make_folder(flag_values.save_path)
  model = common.model_from_flag(flag_values.checkpoint_path)
  common.check_sample_length(flag_values.sample_length,
                             model.config.hop_length)
  outputs = dict(zip(paths, common.output_paths(
      paths, flag_values.save_path, prefix='gen_', suffix='.wav')))
  batch_size = flag_values.batch_size
  if batch_size is None:
    batch_size, why = batch_choice.best_batch_size(
        model.config, flag_values.weights, len(paths))
    logger.info('Generating %d file(s) at a time: %s.', batch_size, why)
  batch = common.Batch('generated')
  batch.done += resynthesis.generate_files(
      model, paths, outputs, flag_values.sample_length, batch_size, use_npy,
      flag_values.temperature, flag_values.seed, flag_values.save_every,
      flag_values.resume,
      progress=common.log_progress, on_error=batch.fail,
      on_saved=lambda path, output: print(f'{path} -> {output}'),
      weights=flag_values.weights, pitch=flag_values.pitch,
      harmonic_filter_db=flag_values.harmonic_filter_db,
      retry_off_pitch=flag_values.retry_off_pitch,
      expected_value=flag_values.expected_value)
  return batch.finish()


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
