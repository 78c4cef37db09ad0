r"""Checks magenta_wavenet against Magenta's own NSynth WaveNet code.

Builds Magenta's full-size `h512_bo16` graph (`Config.build`, through
`fastgen.load_nsynth`) under `tf.compat.v1` with random weights and non-zero
biases, saves it with `tf.compat.v1.train.Saver`, loads that checkpoint with
`magenta_wavenet.load_model`, and compares, on the start of a real NSynth note
bundled with the package:

* the mu-law integers: Magenta's `quantized_input` against
  `dsp.mu_law_encode` (must be identical);
* the encoding: Magenta's `encoding` against `model.encode` (bound: 1e-4 of
  the largest |encoding|);
* the teacher-forced probabilities: Magenta's `predictions` against the
  softmax of `model(audio)` (bound 1e-4);
* fast generation: Magenta's queue-based generator (`fastgen`'s
  `FastGenerationConfig`) fed the note's own samples one at a time, against
  the softmax of `incremental_logits` (bound 1e-4). Both are conditioned on
  Magenta's encoding.

It prints a Markdown table and exits with status 1 when a difference is over
its bound.

Magenta's code is not part of this repository. Give a checkout (the folder
holding `magenta/models/nsynth`, e.g. a clone of github.com/magenta/magenta)
with `--magenta_path` or the `MAGENTA_PATH` variable, or install `magenta`.
Only the NSynth modules are imported: `magenta/__init__.py` (which imports
all of Magenta and its many dependencies) is skipped by registering the
`magenta` and `magenta.models` packages by their folders. `nsynth/utils.py`
imports `librosa` and `tf_slim` at the top but the WaveNet graphs use neither
(they serve its spectrogram and baseline helpers), so a missing one is
replaced by an empty module while Magenta's modules are imported. Nothing
else is patched: `masked`, `utils`, `h512_bo16` and `fastgen` run as they are
on TensorFlow 2's `tf.compat.v1`.

Usage (from the repository root; the full size takes a few minutes on 2 CPU
cores):

  python -m tools.magenta_parity --magenta_path ~/src/magenta
  MAGENTA_PATH=~/src/magenta python -m tools.magenta_parity \
      --num_samples 1024 --fastgen_steps 600
"""

import contextlib
import dataclasses
import importlib
import importlib.util
import os
import sys
import tempfile
import types

from absl import flags
import numpy as np
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet.cli import common
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.sound import dsp

NSYNTH = 'magenta.models.nsynth'
MAGENTA_PATH_ENV = 'MAGENTA_PATH'
# Imported by nsynth/utils.py but used by none of the WaveNet code.
UNUSED_IMPORTS = ('librosa', 'tf_slim')
ENCODING_BOUND = 1e-4  # relative to the largest |encoding|
PROBABILITY_BOUND = 1e-4
FASTGEN_BOUND = 1e-4

FLAGS = common.new_flags()
flags.DEFINE_string(
    'magenta_path', os.environ.get(MAGENTA_PATH_ENV, ''),
    'Folder holding magenta/models/nsynth (a Magenta checkout); default '
    f'${MAGENTA_PATH_ENV}, else an installed magenta package.',
    flag_values=FLAGS)
flags.DEFINE_string('sound', 'nsynth_e5', 'Bundled note compared (its first '
                    'samples).', flag_values=FLAGS)
flags.DEFINE_integer('num_samples', 6144, 'Samples compared, a multiple of '
                     '512.', lower_bound=512, flag_values=FLAGS)
flags.DEFINE_integer('fastgen_steps', 1100, 'Steps of the fast generators '
                     'compared (at most --num_samples).', lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_integer('seed', 0, 'Seed of the random weights.',
                     flag_values=FLAGS)


@dataclasses.dataclass(frozen=True)
class Row:
  """One compared quantity: its max abs difference and the bound it must meet.

  Attributes:
    quantity: What was compared.
    difference: Max abs difference between Magenta and this package.
    bound: Largest difference that passes.
  """

  quantity: str
  difference: float
  bound: float

  @property
  def passed(self):
    return self.difference <= self.bound


def _package(name, folder):
  module = types.ModuleType(name)
  module.__path__ = [folder]
  return module


@contextlib.contextmanager
def _stand_ins(names):
  """Empty modules for `names` that are not installed, for the duration."""
  missing = [name for name in names if name not in sys.modules
             and importlib.util.find_spec(name) is None]
  sys.modules.update({name: types.ModuleType(name) for name in missing})
  try:
    yield
  finally:
    for name in missing:
      sys.modules.pop(name, None)


def import_nsynth(magenta_path=''):
  """Imports Magenta's NSynth WaveNet modules.

  Args:
    magenta_path: Folder holding `magenta/models/nsynth`; empty: the
      installed `magenta` package.

  Returns:
    The modules `(h512_bo16, fastgen)`.

  Raises:
    MagentaWavenetError: when Magenta's NSynth code is not found.
  """
  if magenta_path:
    root = os.path.join(os.path.expanduser(magenta_path), 'magenta')
  else:
    spec = importlib.util.find_spec('magenta')
    locations = spec.submodule_search_locations if spec else None
    root = locations[0] if locations else ''
  if not os.path.isdir(os.path.join(root, 'models', 'nsynth', 'wavenet')):
    raise MagentaWavenetError(
        'Magenta\'s NSynth code not found: give --magenta_path (or '
        f'${MAGENTA_PATH_ENV}), a folder holding magenta/models/nsynth'
        + (f'; {root} has none.' if root else '.'))
  for name, folder in (('magenta', root),
                       ('magenta.models', os.path.join(root, 'models'))):
    if name not in sys.modules:
      sys.modules[name] = _package(name, folder)
  with _stand_ins(UNUSED_IMPORTS):
    h512_bo16 = importlib.import_module(f'{NSYNTH}.wavenet.h512_bo16')
    fastgen = importlib.import_module(f'{NSYNTH}.wavenet.fastgen')
  return h512_bo16, fastgen


def _session():
  # fastgen places its graphs on /gpu:0; soft placement runs them anywhere.
  return tf.compat.v1.Session(config=tf.compat.v1.ConfigProto(
      allow_soft_placement=True))


def run_magenta_model(fastgen, audio, prefix, seed, bias_scale=0.1):
  """Builds Magenta's graph with random weights, saves and runs it.

  The kernels keep Magenta's initializer (unit-scaling uniform, under a
  graph seed); the biases, which Magenta initializes to zero, are drawn from
  N(0, bias_scale^2) so that a bias loaded into the wrong layer shows.

  Args:
    fastgen: Magenta's `fastgen` module.
    audio: float32 [1, samples] in [-1, 1], samples a multiple of 512.
    prefix: Where the checkpoint is saved (`tf.train.Saver` prefix).
    seed: Seed of the weights.
    bias_scale: Standard deviation of the biases.

  Returns:
    Dict of numpy arrays: 'quantized_input' float32 [1, samples] (mu-law
    integers as floats), 'encoding' float32 [1, samples / 512, 16],
    'predictions' float32 [samples, 256].
  """
  tf1 = tf.compat.v1
  with tf.Graph().as_default():
    tf1.set_random_seed(seed)
    net = fastgen.load_nsynth(batch_size=1, sample_length=audio.shape[1])
    rng = np.random.default_rng(seed)
    with _session() as session:
      session.run(tf1.global_variables_initializer())
      session.run([
          variable.assign(rng.normal(0.0, bias_scale, variable.shape.as_list())
                          .astype(np.float32))
          for variable in tf1.global_variables()
          if variable.op.name.endswith('/biases')])
      tf1.train.Saver().save(session, prefix)
      keys = ('quantized_input', 'encoding', 'predictions')
      return dict(zip(keys, session.run([net[key] for key in keys],
                                        {net['X']: audio})))


def run_magenta_fastgen(fastgen, audio, encoding, prefix, steps):
  """Magenta's fast generator, fed `audio` one sample at a time.

  As `fastgen.synthesize` does, but each step is fed the note's previous
  sample (0 at the first step) instead of a sampled one.

  Args:
    fastgen: Magenta's `fastgen` module.
    audio: float32 [1, samples], samples >= steps.
    encoding: float32 [1, frames, 16] covering `steps` samples.
    prefix: Checkpoint to restore.
    steps: Steps run.

  Returns:
    float32 [steps, 256]: Magenta's distribution of each sample given the
    samples before it.
  """
  hop = 512
  with tf.Graph().as_default():
    net = fastgen.load_fastgen_nsynth(batch_size=1)
    with _session() as session:
      tf.compat.v1.train.Saver().restore(session, prefix)
      session.run(net['init_ops'])
      previous = np.concatenate([[0.0], audio[0, :steps - 1]]).astype(
          np.float32)
      probabilities = []
      for step in range(steps):
        probabilities.append(session.run(
            [net['predictions'], net['push_ops']],
            {net['X']: previous[step].reshape(1, 1),
             net['encoding']: encoding[:, step // hop]})[0][0])
  return np.stack(probabilities)


def note_start(sound, num_samples):
  """The first `num_samples` of a bundled note, float32 [1, num_samples]."""
  audio = mw.load_audio(mw.bundled_sound(sound))
  if num_samples % 512 or num_samples > audio.shape[0]:
    raise MagentaWavenetError(
        f'--num_samples must be a multiple of 512 and at most '
        f'{audio.shape[0]} (the length of {sound}), got {num_samples}.')
  return audio[None, :num_samples]


def compare(magenta_path='', sound='nsynth_e5', num_samples=6144,
            fastgen_steps=1100, seed=0):
  """Runs Magenta's code and this package on the same weights and note.

  Args:
    magenta_path: See `import_nsynth`.
    sound: Name of a bundled note (`mw.bundled_sound`).
    num_samples: Samples of the note's start compared, a multiple of 512.
    fastgen_steps: Steps of the fast generators compared, <= num_samples.
    seed: Seed of the random weights.

  Returns:
    List of four `Row`s: mu-law integers, encoding, teacher-forced
    probabilities, fast generation.
  """
  if not 1 <= fastgen_steps <= num_samples:
    raise MagentaWavenetError(f'--fastgen_steps must be in 1..{num_samples}, '
                              f'got {fastgen_steps}.')
  _, fastgen = import_nsynth(magenta_path)
  audio = note_start(sound, num_samples)
  with tempfile.TemporaryDirectory() as folder:
    prefix = os.path.join(folder, 'model.ckpt')
    magenta = run_magenta_model(fastgen, audio, prefix, seed)
    magenta_fastgen = run_magenta_fastgen(
        fastgen, audio, magenta['encoding'], prefix, fastgen_steps)
    model = mw.load_model(prefix)
  quantized = dsp.mu_law_encode(audio).numpy()
  encoding = model.encode(audio).numpy()
  probabilities = tf.nn.softmax(model(audio)).numpy()[0]
  fast = tf.nn.softmax(mw.incremental_logits(
      model, audio[:, :fastgen_steps], magenta['encoding'])).numpy()[0]
  scale = float(np.abs(magenta['encoding']).max())
  return [
      Row('mu-law integers',
          float(np.abs(magenta['quantized_input'] - quantized).max()), 0.0),
      Row(f'encoding (values up to {scale:.3g})',
          float(np.abs(magenta['encoding'] - encoding).max()),
          ENCODING_BOUND * scale),
      Row("teacher-forced probabilities vs Magenta's `predictions`",
          float(np.abs(magenta['predictions'] - probabilities).max()),
          PROBABILITY_BOUND),
      Row(f'`incremental_logits` softmax vs `fastgen` ({fastgen_steps} '
          'steps)', float(np.abs(magenta_fastgen - fast).max()),
          FASTGEN_BOUND)]


def table(rows):
  """The rows as a Markdown table."""
  lines = ['| quantity | max abs difference | bound | |',
           '| --- | ---: | ---: | --- |']
  lines += [f'| {row.quantity} | {row.difference:.2g} | {row.bound:.2g} | '
            f'{"ok" if row.passed else "FAILED"} |' for row in rows]
  return '\n'.join(lines)


def _body(flag_values):
  rows = compare(flag_values.magenta_path, flag_values.sound,
                 flag_values.num_samples, flag_values.fastgen_steps,
                 flag_values.seed)
  print(f'{flag_values.sound}, first {flag_values.num_samples} samples, '
        f'h512_bo16 with random weights (seed {flag_values.seed}), '
        f'TensorFlow {tf.__version__}:\n')
  print(table(rows))
  return 0 if all(row.passed for row in rows) else common.EXIT_FAILURE


def main(argv=None):
  """Command-line entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
