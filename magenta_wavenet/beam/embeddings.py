"""Audio files encoded into `.npy` codes by an Apache Beam pipeline, as
`codes.save_embeddings` does on one machine (the `save_embeddings` command
with --pipeline_options).

Each worker loads the model once (`DoFn.setup`) and encodes the files in
batches that Beam forms inside it (`BatchElements`, `batch_size` files);
files of equal length are encoded together (`codes.encode_files`), so a
code is the one the file gets encoded alone, whatever batch it falls in.
A file that cannot be read or written is listed in the failures output and
the others are still encoded.

Counters (namespace 'magenta_wavenet'): files_encoded, files_failed.
"""

import contextlib
import logging

import apache_beam as beam

from magenta_wavenet import codes
from magenta_wavenet.beam import pipeline
from magenta_wavenet.beam.files import BEAM_FILES
from magenta_wavenet.errors import USER_ERRORS
from magenta_wavenet.errors import describe

logger = logging.getLogger(__name__)


def _failure(path, local, error):
  """The failure line of input `path`, read as the file `local`."""
  message = describe(error).replace(local, path)
  return message if message.startswith(path) else f'{path}: {message}'


class EncodeFiles(beam.DoFn):
  """Encodes a batch of files and writes their codes.

  Elements: lists of (audio path, `.npy` path). Outputs the audio paths
  whose code was written; to `pipeline.FAILURES` one line per file that
  failed.
  """

  def __init__(self, model_name, sample_length):
    super().__init__()
    self._model_name = model_name
    self._sample_length = sample_length
    self._model = None
    self._encoded = pipeline.counter('files_encoded')
    self._failed = pipeline.counter('files_failed')

  def setup(self):
    self._model = pipeline.worker_model(self._model_name)

  def process(self, batch):
    failures = []
    with contextlib.ExitStack() as stack:
      wanted = {}  # local copy -> (path, output)
      for path, output in batch:
        try:
          wanted[stack.enter_context(BEAM_FILES.local_copy(path))] = (
              path, output)
        except USER_ERRORS as error:
          failures.append(_failure(path, path, error))
      encoded = codes.encode_files(
          self._model, list(wanted), self._sample_length,
          on_error=lambda local, error: failures.append(
              _failure(wanted[local][0], local, error)))
      for local, _, code in encoded:
        path, output = wanted[local]
        try:
          codes.save_code(output, code, BEAM_FILES)
        except USER_ERRORS as error:
          failures.append(_failure(path, path, error))
          continue
        self._encoded.inc()
        yield path
    self._failed.inc(len(failures))
    logger.info('Encoded a batch of %d files, %d failed.', len(batch),
                len(failures))
    for line in failures:
      yield beam.pvalue.TaggedOutput(pipeline.FAILURES, line)


def save_embeddings(paths, outputs, save_path, sample_length, batch_size,
                    pipeline_options, model_name=None):
  """Encodes `paths` into their `outputs` with a Beam pipeline.

  Args:
    paths: Audio files, any that Beam's `FileSystems` reads (gs://...).
    outputs: dict {path: `.npy` file for its code}.
    save_path: The folder of the outputs, where the failures are listed.
    sample_length: Most samples encoded per file (16 kHz).
    batch_size: Files a worker encodes together.
    pipeline_options: Beam's flags, comma-separated
      ('--runner=DirectRunner,--direct_num_workers=2').
    model_name: What each worker loads (`pretrained.load_model`); empty:
      the default model.

  Returns:
    (the counters {name: count}, the failure lines 'path: problem').
  """
  pipeline.remove_leftovers(save_path)
  job = beam.Pipeline(options=pipeline.options(pipeline_options))
  results = (job
             | 'Files' >> beam.Create([(path, outputs[path])
                                       for path in paths], reshuffle=False)
             | 'Spread' >> beam.Reshuffle()
             | 'Batch' >> beam.BatchElements(min_batch_size=batch_size,
                                             max_batch_size=batch_size)
             | 'Encode' >> beam.ParDo(EncodeFiles(
                 model_name, sample_length)).with_outputs(
                     pipeline.FAILURES, main='encoded'))
  pipeline.write_failures(results[pipeline.FAILURES], save_path)
  return pipeline.run(job, save_path)
