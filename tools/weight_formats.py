r"""How far float16 and int8 weights move a model from float32, on real notes.

For each model, the teacher-forced logits of the same real notes are
computed with float32 weights (the XLA loop) and with each other format in
each runtime that runs it (`generation.incremental_logits`; the Numba loop
only for models that fit in the caches, where it is the default). Printed
as a Markdown table per format and runtime: the largest and the mean
absolute softmax difference over every sample and class, and the change of
the notes' NLL of the true samples in bits (mean over notes, and the largest
of one note).

The notes: the bundled ones and, with `--real_notes`, an .npy [notes,
samples] of more; each is cut to `--sample_length` samples after the first
`--offset` (past the attack) and scaled to a peak of 0.8.

Usage:
  python -m tools.weight_formats --models h64_bo16_pitch,h64_bo16 \
      --real_notes example_nsynth_audio.npy
  # The full preset with random weights (no checkpoint needed):
  python -m tools.weight_formats --models random:h512_bo16 --sample_length 1024
"""

from absl import flags
import numpy as np
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet.cli import common
from magenta_wavenet.model import pretrained
from magenta_wavenet.model.autoencoder import cross_entropy
from magenta_wavenet.synthesis import generation
from magenta_wavenet.synthesis import litert

FLAGS = common.new_flags()
flags.DEFINE_list('models', [pretrained.DEFAULT_MODEL], 'Model names or '
                  'checkpoint paths; random:<preset> for random weights.',
                  flag_values=FLAGS)
flags.DEFINE_string('real_notes', '', 'Optional .npy [notes, samples] of '
                    'more real notes.', flag_values=FLAGS)
flags.DEFINE_integer('offset', 2048, 'Samples skipped at the start of each '
                     'note.', flag_values=FLAGS)
flags.DEFINE_integer('sample_length', 4096, 'Samples per note.',
                     flag_values=FLAGS)

PEAK = 0.8
BUNDLED = ('nsynth_e5', 'nsynth_a1', 'nsynth_b4')


def notes(real_notes, offset, length):
  """float32 [notes, length]: bundled (and given) notes, peak 0.8."""
  audio = [mw.load_audio(mw.bundled_sound(name)) for name in BUNDLED]
  if real_notes:
    audio += list(np.load(real_notes, allow_pickle=False))
  audio = np.stack([note[offset:offset + length] for note in audio])
  return (audio * PEAK / np.max(np.abs(audio), axis=1, keepdims=True)
          ).astype(np.float32)


def load(name):
  """A model by name or path; random:<preset> is the preset as Keras
  initializes it (as the benchmark times it)."""
  if name.startswith('random:'):
    return mw.NSynthAutoencoder(name.split(':', 1)[1])
  return pretrained.load_model(name)


def approximations():
  """The (weights, runtime) pairs compared with float32."""
  return [(weights, runtime) for weights in litert.WEIGHT_FORMATS[1:]
          for runtime in generation.RUNTIMES
          if generation.runs(runtime, weights)]


def compare(model, audio):
  """{(format, runtime): (largest softmax gap, mean gap, mean NLL change,
  largest NLL change)} against float32 in the XLA loop."""
  code = model.encode(audio)

  def scores(weights, runtime):
    logits = generation.incremental_logits(model, audio, code, weights,
                                           runtime)
    bits = np.mean(cross_entropy(logits, audio), axis=1) / np.log(2.0)
    return tf.nn.softmax(logits).numpy(), bits

  exact, exact_bits = scores('float32', 'xla')
  results = {}
  for weights, runtime in approximations():
    probabilities, bits = scores(weights, runtime)
    gaps = np.abs(probabilities - exact)
    change = bits - exact_bits
    results[weights, runtime] = (gaps.max(), gaps.mean(), change.mean(),
                                 change[np.argmax(np.abs(change))])
  return results


def _body(flag_values):
  audio = notes(flag_values.real_notes, flag_values.offset,
                flag_values.sample_length)
  print(f'{len(audio)} notes x {audio.shape[1]} samples.\n')
  print('| model | weights (runtime) | largest softmax difference | mean '
        'difference | NLL change, mean (bits) | largest NLL change of a note '
        '(bits) |')
  print('| --- | --- | ---: | ---: | ---: | ---: |')
  for name in flag_values.models:
    for (weights, runtime), (largest, mean, change, worst) in compare(
        load(name), audio).items():
      print(f'| {name} | {weights} ({runtime}) | {largest:.2g} | {mean:.2g} '
            f'| {change:+.4f} | {worst:+.4f} |', flush=True)
  return 0


def main(argv=None):
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
