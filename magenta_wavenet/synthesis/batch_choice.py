"""How many files to generate at once: what the benchmark found fastest.

`python -m magenta_wavenet benchmark` keeps the step times it measured in
the cache folder (`pretrained.cache_dir()`), in `speed/<preset>.json`
(`save_timings`): per weight format and runtime, ms per step at each batch
size, and the machine's cores. `best_batch_size` reads them back for
`generate` when no `--batch_size` is given: the measured batch with the
fewest ms per sample (step / batch) in the runtime that generation picks,
at most the number of files. Without a measurement on this machine it
takes `UNMEASURED_BATCH`: batch 16 was the cheapest per sample of batches
1, 4 and 16 for every model, format and runtime the README's table has.
`best_format` reads them for `instrument`'s weight format.
"""

import json
import math
import os

from magenta_wavenet import cpu
from magenta_wavenet.model import pretrained
from magenta_wavenet.synthesis import generation

UNMEASURED_BATCH = 16


def timings_path(config):
  """The file of the step times of this `WaveNetConfig`'s preset."""
  return os.path.join(pretrained.cache_dir(), 'speed', f'{config.name}.json')


def load_timings(config):
  """{weights: {runtime: {batch: ms per step}}} measured on a machine with
  this many cores, or {} (none, or measured with other cores)."""
  try:
    with open(timings_path(config)) as handle:
      saved = json.load(handle)
  except (OSError, ValueError):
    return {}
  if saved.get('cores') != cpu.cores():
    return {}
  return {weights: {runtime: {int(batch): ms for batch, ms in steps.items()}
                    for runtime, steps in runtimes.items()}
          for weights, runtimes in saved.get('timings', {}).items()}


def save_timings(config, timings):
  """Adds timings {(weights, runtime): {batch: ms per step}} to the file of
  the config's preset (replacing earlier ones of the same case), written
  whole or not at all."""
  merged = load_timings(config)
  for (weights, runtime), steps in timings.items():
    merged.setdefault(weights, {}).setdefault(runtime, {}).update(steps)
  path = timings_path(config)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  partial = path + '.partial'
  with open(partial, 'w') as handle:
    json.dump({'cores': cpu.cores(), 'timings': merged}, handle,
              indent=1, sort_keys=True)
  os.replace(partial, path)


def best_batch_size(config, weights, files):
  """(batch size, why) for generating `files` files of this config with
  `weights`: see the module docstring."""
  steps = load_timings(config).get(weights, {}).get(
      generation.default_runtime(config, weights), {})
  if not steps:
    return (min(files, UNMEASURED_BATCH),
            f'no benchmark of {config.name} with {weights} weights on this '
            f'machine, so up to {UNMEASURED_BATCH} at once; python -m '
            f'magenta_wavenet.benchmark --preset {config.name} --weights '
            f'{weights} measures it')
  fastest = min(steps, key=lambda batch: steps[batch] / batch)
  return (min(files, fastest),
          f'the benchmark of {config.name} with {weights} weights on this '
          f'machine found batch {fastest} the fastest per sample '
          f'({steps[fastest] / fastest:.3g} ms a sample)')


def best_format(config, batch_size):
  """(weight format, why): the format that generated fastest on this
  machine, each in the runtime that generation picks for it, at the batch
  the benchmark measured nearest to batch_size (by ratio; the smaller on a
  tie) of those where it timed two formats or more. Without such a
  measurement, `generation.fastest_format`'s rule."""
  steps = {weights: runtimes.get(generation.default_runtime(config, weights),
                                 {})
           for weights, runtimes in load_timings(config).items()}
  shared = [batch for batch in {b for times in steps.values() for b in times}
            if sum(batch in times for times in steps.values()) >= 2]
  if not shared:
    return (generation.fastest_format(config, batch_size),
            f'no benchmark of two formats of {config.name} on this machine, '
            f'so by rule (generation.fastest_format)')
  batch = min(shared, key=lambda b: (abs(math.log(b / batch_size)), b))
  times = {weights: times[batch] for weights, times in steps.items()
           if batch in times}
  fastest = min(times, key=times.get)
  return (fastest,
          f'the benchmark of {config.name} on this machine found {fastest} '
          f'the fastest at batch {batch} ({times[fastest]:.3g} ms a step; '
          + ', '.join(f'{weights} {ms:.3g}' for weights, ms in
                      sorted(times.items()) if weights != fastest) + ')')


def generation_seconds(config, weights, lengths, batch_size):
  """Seconds to generate notes of `lengths` samples, `batch_size` at a time
  with `weights`, from the step times the benchmark kept on this machine.

  A batch costs its longest note's samples times the step of the smallest
  measured batch at least as large (past the largest measured batch, that
  one's step scaled by the batch).

  Args:
    config: The model's `WaveNetConfig`.
    weights: 'float32', 'float16' or 'int8', run in its
      `generation.default_runtime`.
    lengths: Samples of each note, in the order they are batched.
    batch_size: Notes generated at once.

  Returns:
    float seconds, or None without a benchmark of that case here.
  """
  steps = load_timings(config).get(weights, {}).get(
      generation.default_runtime(config, weights), {})
  if not steps:
    return None
  largest = max(steps)
  total_ms = 0.0
  for start in range(0, len(lengths), batch_size):
    batch = lengths[start:start + batch_size]
    measured = [size for size in steps if size >= len(batch)]
    step_ms = (steps[min(measured)] if measured
               else steps[largest] * len(batch) / largest)
    total_ms += max(batch) * step_ms
  return total_ms / 1000
