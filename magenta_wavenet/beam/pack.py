"""A sample pack rendered by an Apache Beam pipeline, on one machine or many.

The launcher does what `sample_pack.render_pack` does before and after the
notes (`prepare_pack`: sources, manifest, codes; `finish_pack`: SFZ files,
the manifest marked complete); the notes are the pipeline's work. Its
elements are the pack's planned batches (`sample_pack.plan_batches`), each
with its notes' codes; a worker loads the model once (`DoFn.setup`) and
generates a batch at a time with the batch's seed (`sample_pack.
batch_seed`: the pack's seed and the batch's notes). A note's samples
depend on the batch it is drawn in (the noise of its row, the rounding of
the batch's products), so the batches are planned once, in the launcher,
and never re-formed by a worker: any sharding over any number of workers
writes the same files as `render_pack`, bit for bit. Notes already written
are skipped, so a killed job run again completes the pack. A batch that
fails with a user error (an unwritable folder, a full disk) is listed in
the failures output and the others still render.

Counters (namespace 'magenta_wavenet'): notes_written, notes_skipped (there
before), notes_failed.
"""

import logging

import apache_beam as beam

from magenta_wavenet import sample_pack
from magenta_wavenet.beam import pipeline
from magenta_wavenet.beam.files import BEAM_FILES
from magenta_wavenet.errors import USER_ERRORS
from magenta_wavenet.errors import describe

logger = logging.getLogger(__name__)


class RenderBatches(beam.DoFn):
  """Generates planned batches of a pack and writes their missing WAVs.

  Elements: (notes, codes), a batch's (row, col, midi) tuples and their
  codes {move: float32 [len(notes), frames, code_width]}
  (`sample_pack.batches_with_codes`). Outputs the notes written;
  to `pipeline.FAILURES` one line per batch that failed.
  """

  def __init__(self, model_name, manifest, save_path):
    super().__init__()
    self._model_name = model_name
    self._manifest = manifest
    self._save_path = save_path
    self._model = None
    self._written = pipeline.counter('notes_written')
    self._skipped = pipeline.counter('notes_skipped')
    self._failed = pipeline.counter('notes_failed')

  def setup(self):
    self._model = pipeline.worker_model(self._model_name)

  def process(self, element):
    notes, codes = element
    try:
      written = sample_pack.render_batch(self._model, notes, codes,
                                         self._manifest, self._save_path,
                                         files=BEAM_FILES)
    except USER_ERRORS as error:
      self._failed.inc(len(notes))
      names = ', '.join(sample_pack.sample_path(*note) for note in notes)
      yield beam.pvalue.TaggedOutput(
          pipeline.FAILURES, f'{names}: {describe(error)}')
      return
    self._written.inc(len(written))
    self._skipped.inc(len(notes) - len(written))
    if written:
      logger.info('%s: wrote %d notes.', self._save_path, len(written))
    yield from written


def render_pack(model, sources, save_path, points, pitches, note_length,
                pipeline_options, seed=None, batch_size=None, model_name=None,
                decoder_weights=None, harmonic_filter_db=None,
                retry_off_pitch=None, expected_value=None):
  """`sample_pack.render_pack` as a Beam pipeline.

  Args:
    model: The `NSynthAutoencoder` the launcher encodes the sources with.
    sources, save_path, points, pitches, note_length, seed, batch_size,
      decoder_weights, harmonic_filter_db, retry_off_pitch, expected_value:
      As for `sample_pack.render_pack`; paths may be any that Beam's
      `FileSystems` reads (gs://...).
    pipeline_options: Beam's flags, comma-separated
      ('--runner=DirectRunner,--direct_num_workers=2').
    model_name: What each worker loads (`pretrained.load_model`): a shipped
      model's name or a path every worker reaches; empty: the default.

  Returns:
    (the manifest, complete unless a note failed; the counters {name:
    count}; the failure lines, one per failed batch).

  Raises:
    MagentaWavenetError: as `render_pack`, before the pipeline starts.
  """
  manifest, codes = sample_pack.prepare_pack(
      model, sources, save_path, points, pitches, note_length, seed=seed,
      batch_size=batch_size, model_name=model_name or None,
      decoder_weights=decoder_weights, harmonic_filter_db=harmonic_filter_db,
      retry_off_pitch=retry_off_pitch, expected_value=expected_value,
      files=BEAM_FILES)
  for folder in (save_path, BEAM_FILES.join(save_path, sample_pack.SAMPLES)):
    pipeline.remove_leftovers(folder)
  batches = sample_pack.batches_with_codes(manifest, codes)
  job = beam.Pipeline(options=pipeline.options(pipeline_options))
  results = (job
             | 'Batches' >> beam.Create(batches, reshuffle=False)
             | 'Spread' >> beam.Reshuffle()
             | 'Render' >> beam.ParDo(RenderBatches(
                 model_name, manifest, save_path)).with_outputs(
                     pipeline.FAILURES, main='written'))
  pipeline.write_failures(results[pipeline.FAILURES], save_path)
  counters, failures = pipeline.run(job, save_path)
  if not failures:
    manifest = sample_pack.finish_pack(manifest, save_path, BEAM_FILES)
  return manifest, counters, failures
