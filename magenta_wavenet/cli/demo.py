r"""The whole NSynth round trip on a bundled 2.5 s note, in one command.

Encodes the note into its code (78 frames x 16 channels for the full
40,000 samples), saves the code (.npy) and a picture of the waveform above
the code (.png), resynthesizes the note from the code with the shipped model
and saves the original and the resynthesis (.wav), then prints where each
file went. With --harmonic_filter_db it also saves the resynthesis with
that many dB taken off the noise between its harmonics
(`<sound>_filtered.wav`, `harmonics.harmonic_filter`).

Usage:
  python -m magenta_wavenet demo
  # Another note, a shorter piece (1 s), another folder:
  python -m magenta_wavenet demo --sound=nsynth_a1 --sample_length=16000 \
      --save_path=/tmp/nsynth
  # Beside the resynthesis, the same with less noise between its harmonics:
  python -m magenta_wavenet demo --harmonic_filter_db=20
"""

import os
import time

from absl import flags

from magenta_wavenet import codes
from magenta_wavenet import plotting
from magenta_wavenet.cli import common
from magenta_wavenet.sound.audio import bundled_sound
from magenta_wavenet.sound.audio import load_audio
from magenta_wavenet.sound.audio import save_wav
from magenta_wavenet.sound.dsp import trim_for_encoding
from magenta_wavenet.sound.harmonics import harmonic_filter
from magenta_wavenet.synthesis import generation

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
flags.DEFINE_string('sound', 'nsynth_e5', 'Bundled sound: nsynth_e5, '
                    'nsynth_a1 or nsynth_b4.', flag_values=FLAGS)
flags.DEFINE_string('save_path', 'output', 'Folder for the results (created).',
                    flag_values=FLAGS)
flags.DEFINE_integer('sample_length', 40000, 'Samples of the note to use '
                     '(16 kHz; cut to whole 512-sample hops); fewer run '
                     'faster.', lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('seed', 0, 'Random seed of the resynthesis.',
                     flag_values=FLAGS)
common.define_harmonic_filter_flag(FLAGS)


def run_demo(model, sound, save_path, sample_length, seed=0,
             harmonic_filter_db=0.0):
  """Encodes, plots and resynthesizes a bundled sound.

  Args:
    model: An `NSynthAutoencoder`.
    sound: Bundled sound name, e.g. 'nsynth_e5'.
    save_path: Existing folder for the results.
    sample_length: Most samples of the sound to use.
    seed: Random seed of the resynthesis.
    harmonic_filter_db: When not 0, the resynthesis is also saved with this
      many dB taken off between its harmonics (`harmonic_filter`).

  Returns:
    dict {'original', 'code', 'plot', 'resynthesis', and with the filter
    'filtered': path}.
  """
  hop = model.config.hop_length
  audio = load_audio(bundled_sound(sound), model.config.sample_rate,
                     min_samples=hop)
  audio = trim_for_encoding(audio, hop, sample_length)
  heard, gain = codes.at_level(model, audio[None])  # as encode_at_level
  code = model.encode(heard).numpy()[0]
  paths = {name: os.path.join(save_path, f'{sound}_{name}{extension}')
           for name, extension in (('original', '.wav'), ('code', '.npy'),
                                   ('plot', '.png'), ('resynthesis', '.wav'),
                                   ('filtered', '.wav'))}
  if not harmonic_filter_db:
    del paths['filtered']
  save_wav(paths['original'], audio)
  codes.save_code(paths['code'], code)
  plotting.save_plot(paths['plot'], audio, code, sample_rate=
                     model.config.sample_rate, hop_length=hop, title=sound,
                     pitched=model.config.pitch_classes > 0)
  print(f'Encoded {len(audio)} samples of {sound} into a code of '
        f'{code.shape[0]} frames x {code.shape[1]} channels.', flush=True)
  started = time.monotonic()
  resynthesis = generation.synthesize(model, code[None], seed=seed,
                                      progress=True)[0]
  resynthesis /= gain[0]  # as loud as the sound
  save_wav(paths['resynthesis'], resynthesis)
  print(f'Resynthesized {len(resynthesis)} samples in '
        f'{time.monotonic() - started:.0f} s.')
  if harmonic_filter_db:
    save_wav(paths['filtered'], harmonic_filter(
        resynthesis, harmonic_filter_db, model.config.sample_rate))
  return paths


def _body(flag_values):
  common.make_folder(flag_values.save_path)
  model = common.model_from_flag(flag_values.checkpoint_path)
  paths = run_demo(model, flag_values.sound, flag_values.save_path,
                   flag_values.sample_length, flag_values.seed,
                   flag_values.harmonic_filter_db)
  labels = {'original': 'original audio', 'code': 'code (numpy .npy)',
            'plot': 'waveform and code (PNG)', 'resynthesis': 'resynthesis',
            'filtered': (f'resynthesis, '
                         f'{flag_values.harmonic_filter_db:g} dB filter')}
  for name, path in paths.items():
    print(f'  {labels[name] + ":":26} {path}')
  return 0


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
