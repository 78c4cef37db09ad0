"""What every Beam job here shares: its options, one model per worker, its
counters and its failures output.

A job's failures are lines 'path: problem', one per input that failed,
written by Beam's `WriteToText` to `<save_path>/failures.txt` and read back
by the launcher once the job ends; the file is removed when no input
failed.
"""

import logging

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from magenta_wavenet.beam.files import BEAM_FILES
from magenta_wavenet.beam.files import PARTIAL_PREFIX
from magenta_wavenet.model import pretrained

logger = logging.getLogger(__name__)

NAMESPACE = 'magenta_wavenet'
FAILURES = 'failures'  # the tag of the failures output
FAILURES_FILE = 'failures.txt'
_TEMPORARY_PREFIXES = (PARTIAL_PREFIX, f'beam-temp-{FAILURES}-')
_MODELS = {}


def quiet_beam():
  """Shows Beam's own messages from WARNING up, unless this package logs at
  DEBUG: at INFO, its workers and runners print dozens of lines a job."""
  if not logging.getLogger('magenta_wavenet').isEnabledFor(logging.DEBUG):
    logging.getLogger('apache_beam').setLevel(logging.WARNING)


def options(pipeline_options):
  """Beam's options from Magenta's convention for its Beam jobs: one
  string of comma-separated flags ('--runner=DirectRunner,
  --direct_num_workers=2'); empty: Beam's defaults (the DirectRunner)."""
  quiet_beam()
  flags = [flag.strip() for flag in pipeline_options.split(',')
           if flag.strip()]
  return PipelineOptions(flags)


def worker_model(name):
  """The model `name` (a shipped model, checkpoint or saved model; empty:
  the default), loaded once per worker process and kept."""
  quiet_beam()
  name = name or pretrained.DEFAULT_MODEL
  if name not in _MODELS:
    logger.info('Loading the model %s.', name)
    _MODELS[name] = pretrained.load_model(name)
  return _MODELS[name]


def failures_path(save_path):
  """Where a job writing to `save_path` lists its failures."""
  return BEAM_FILES.join(save_path, FAILURES_FILE)


def remove_leftovers(folder):
  """Deletes what a killed job left in `folder`: half-written files and
  the failures output's temporary folder."""
  BEAM_FILES.delete([
      path for prefix in _TEMPORARY_PREFIXES
      for path in BEAM_FILES.match(BEAM_FILES.join(folder, prefix + '*'))])


def write_failures(failures, save_path):
  """Writes the PCollection of failure lines to `failures_path`."""
  return failures | 'WriteFailures' >> beam.io.WriteToText(
      failures_path(save_path)[:-len('.txt')], file_name_suffix='.txt',
      shard_name_template='')


def run(pipeline, save_path):
  """Runs `pipeline` to its end; returns (its counters {name: value}, the
  failure lines, sorted), removing an empty failures file."""
  result = pipeline.run()
  result.wait_until_finish()
  counters = {}
  for counter in result.metrics().query(
      beam.metrics.MetricsFilter().with_namespace(NAMESPACE))['counters']:
    name = counter.key.metric.name
    counters[name] = counters.get(name, 0) + counter.committed
  path = failures_path(save_path)
  lines = BEAM_FILES.read_bytes(path).decode('utf-8').splitlines()
  if not lines:
    BEAM_FILES.delete([path])
  return counters, sorted(lines)


def counter(name):
  """A Beam counter of this package's namespace."""
  return beam.metrics.Metrics.counter(NAMESPACE, name)
