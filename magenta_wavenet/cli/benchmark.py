"""Times generation and encoding on this machine, against baselines and floors.

The command is `speed.run_benchmark` from flags; its `--help` is the speed
module's docstring, then `USAGE`.
"""

from absl import flags

from magenta_wavenet import speed
from magenta_wavenet.cli import common
from magenta_wavenet.model.autoencoder import NSynthAutoencoder
from magenta_wavenet.model.pretrained import load_model
from magenta_wavenet.synthesis import batch_choice
from magenta_wavenet.synthesis import generation
from magenta_wavenet.synthesis import litert

USAGE = r"""Usage:
  python -m magenta_wavenet benchmark   # h512_bo16, random weights
  python -m magenta_wavenet benchmark --preset h64_bo16 --batch_sizes 1
  python -m magenta_wavenet benchmark --batch_sizes 1,4,16 --steps 1024
  python -m magenta_wavenet benchmark --weights float32,int8
  python -m magenta_wavenet benchmark --preset h64_bo16 --runtimes numba,litert
  python -m magenta_wavenet benchmark --checkpoint_path h512_bo16
"""

FLAGS = common.new_flags()
flags.DEFINE_string('preset', 'h512_bo16', 'Model preset (random weights).',
                    flag_values=FLAGS)
flags.DEFINE_string('checkpoint_path', '', 'Benchmark this checkpoint '
                    'instead of a random preset.', flag_values=FLAGS)
flags.DEFINE_list('batch_sizes', ['1', '4', '16', '64', '256', '512'],
                  'Batch sizes to time, as memory allows: the XLA loop '
                  'holds its state (12.6 MB a batch row for h512_bo16) '
                  'about twice; it took 15 GB at batch 512.',
                  flag_values=FLAGS)
flags.DEFINE_list('weights', list(litert.WEIGHT_FORMATS),
                  'Weight formats to time: float32, float16, int8.',
                  flag_values=FLAGS)
flags.DEFINE_list('runtimes', [], 'Time each format in each of these '
                  'runtimes that runs it (xla, numba, litert); default: '
                  'each in the runtime that generation picks for the model, '
                  'and float32 in the XLA loop.', flag_values=FLAGS)
flags.DEFINE_integer('steps', 512, 'Samples of each note per timed run up to '
                     f'batch {speed.FULL_BATCH}; larger batches generate as '
                     'many sample-steps (batch x steps), at least '
                     f'{speed.MIN_STEPS} steps. A step is a run\'s time less '
                     'a one-step call\'s, over steps - 1.',
                     lower_bound=2, flag_values=FLAGS)
flags.DEFINE_integer('repeats', 3, 'Timed runs per case; the fastest counts.',
                     lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('baseline_steps', 48, 'Steps of the naive baseline.',
                     lower_bound=1, flag_values=FLAGS)


def _body(flag_values):
  for weights in flag_values.weights:
    litert.check_weight_format(weights)
  for runtime in flag_values.runtimes:
    generation.check_runtime(runtime)
  model = (load_model(flag_values.checkpoint_path)
           if flag_values.checkpoint_path
           else NSynthAutoencoder(flag_values.preset))
  report, timings = speed.run_benchmark(
      model, [int(b) for b in flag_values.batch_sizes],
      flag_values.weights, flag_values.steps, flag_values.repeats,
      flag_values.baseline_steps, flag_values.runtimes)
  print(report)
  batch_choice.save_timings(model.config, timings)
  print(f'\nStep times kept for generate --batch_size: '
        f'{batch_choice.timings_path(model.config)}')


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, speed.__doc__ + '\n' + USAGE)


if __name__ == '__main__':
  raise SystemExit(main())
