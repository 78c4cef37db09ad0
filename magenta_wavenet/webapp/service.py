"""The studio's state: its sounds, packs, render queue and model.

The model is loaded once, on first use (a render or a plot), so the page is
served at once; TensorFlow and the shipped model take a few seconds to load.
"""

import io
import logging
import os
import threading

from magenta_wavenet import codes
from magenta_wavenet import plotting
from magenta_wavenet import sample_pack
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.synthesis import batch_choice
from magenta_wavenet.webapp import renders
from magenta_wavenet.webapp.packs import Packs
from magenta_wavenet.webapp.packs import pack_id
from magenta_wavenet.webapp.sources import Sources

logger = logging.getLogger(__name__)

# Rendered on first start unless present: 2 bundled notes, 3 timbres, 3
# pitches, 1 s notes; 9 notes in one batch, under a minute with the shipped
# model on a 2-core CPU.
DEFAULT_PACK = {'sources': ['nsynth_e5', 'nsynth_b4'], 'points': 3,
                'pitches': [48, 60, 72], 'note_seconds': 1.0, 'seed': 1}
PLOT_SAMPLES = 64000  # 4 s of a source are plotted
PLOT_DPI = 60  # the 10 x 5.5 inch figure becomes 600 x 330 pixels


class Studio:
  """Everything the web app serves, under one work folder.

  Args:
    workdir: The studio's folder: uploads/, packs/ and renders/ go there
      (created); renders left active there are resumed.
    load_model: Function of no arguments returning the `NSynthAutoencoder`;
      called once, on first use.
    model_name: The model's name or path: recorded in the packs, and part
      of their ids.
    max_upload_bytes: Largest upload accepted.
    max_upload_seconds: Longest upload accepted once decoded, seconds.
    harmonic_filter_db: dB taken off the noise between the harmonics of
      each note rendered (`harmonics.harmonic_filter`) when a request does
      not say; 0: the notes as generated.
    retry_off_pitch: Whether a note that does not play its pitch is
      generated again from its sources moved a semitone or two, then moved
      back (`sample_pack.render_pack`), when a request does not say.
    expected_value: Whether each note is written as its samples' expected
      values (`generation.synthesize`'s `expected_value`), when a request
      does not say.
  """

  def __init__(self, workdir, load_model, model_name, max_upload_bytes,
               max_upload_seconds, harmonic_filter_db=0.0,
               retry_off_pitch=False, expected_value=False):
    self.sources = Sources(os.path.join(workdir, 'uploads'), max_upload_bytes,
                           max_upload_seconds)
    self.packs = Packs(os.path.join(workdir, 'packs'))
    self.renders = renders.RenderQueue(
        self._render, os.path.join(workdir, 'renders'), self._progress_so_far)
    self.model_name = model_name
    if not 0 <= harmonic_filter_db <= renders.MAX_HARMONIC_FILTER_DB:
      raise MagentaWavenetError(
          f'the studio\'s harmonic filter takes 0 to '
          f'{renders.MAX_HARMONIC_FILTER_DB:g} dB, got {harmonic_filter_db}.')
    self.harmonic_filter_db = harmonic_filter_db
    if not isinstance(retry_off_pitch, bool):
      raise MagentaWavenetError(
          f'the studio\'s retry_off_pitch must be true or false, got '
          f'{retry_off_pitch!r}.')
    self.retry_off_pitch = retry_off_pitch
    if not isinstance(expected_value, bool):
      raise MagentaWavenetError(
          f'the studio\'s expected_value must be true or false, got '
          f'{expected_value!r}.')
    self.expected_value = expected_value
    self._load_model = load_model
    self._model = None
    self._model_lock = threading.Lock()
    self._plots = {}

  def model(self):
    """The model, loaded on the first call."""
    with self._model_lock:
      if self._model is None:
        self._model = self._load_model()
      return self._model

  def defaults(self):
    """The render settings whose defaults are this studio's own (its
    harmonic filter, whether notes off their pitch are retried, whether
    samples are written as expected values), as JSON for the page's
    form."""
    return {'harmonic_filter_db': self.harmonic_filter_db,
            'retry_off_pitch': self.retry_off_pitch,
            'expected_value': self.expected_value}

  def submit(self, request):
    """Queues the render a request's JSON asks for; returns its job dict,
    with the render's estimated seconds where the benchmark ran here (one
    generation per note: the retries of notes off their pitch are not
    foreseen).

    A pack already complete gives a job that is done at once.

    Raises:
      MagentaWavenetError: for bad settings (`renders.check_settings`).
      ids.NotFound: for an unknown source.
      renders.QueueFull: when too many renders wait.
    """
    config = self.model().config
    settings = renders.check_settings(
        request, config.hop_length / config.sample_rate,
        self.harmonic_filter_db, self.retry_off_pitch, self.expected_value)
    for source in settings['sources']:
      self.sources.path(source)
    pack = pack_id(settings, self.model_name,
                   shifted_sources=config.pitch_classes > 0)
    notes = self._notes(settings)
    left = len(notes) - self.packs.notes_written(pack, notes)
    weights, _ = batch_choice.best_format(config,
                                          sample_pack.DEFAULT_BATCH_SIZE)
    estimate = batch_choice.generation_seconds(
        config, weights, [self._note_samples(settings)] * left,
        sample_pack.DEFAULT_BATCH_SIZE)
    return self.renders.submit(pack, settings, estimate).to_dict()

  def _note_samples(self, settings):
    return sample_pack.note_samples(f'{settings["note_seconds"]!r}s',
                                    self.model().config.sample_rate)

  @staticmethod
  def _notes(settings):
    """The paths inside its pack of every note a render writes."""
    rows, cols, _ = sample_pack.grid_weights(len(settings['sources']),
                                             settings['points']).shape
    return [sample_pack.sample_path(*note) for note in
            sample_pack.plan_notes(rows, cols, settings['pitches'])]

  def _progress_so_far(self, job):
    """The fraction of a job's notes already written."""
    notes = self._notes(job.settings)
    return self.packs.notes_written(job.pack, notes) / len(notes)

  def plot_png(self, source_id):
    """PNG bytes of a source's waveform above its code (first 4 s)."""
    path = self.sources.path(source_id)
    if source_id not in self._plots:
      model = self.model()
      [(_, audio, code)] = codes.encode_files(model, [path], PLOT_SAMPLES)
      figure = plotting.plot_code(
          audio, code, sample_rate=model.config.sample_rate,
          hop_length=model.config.hop_length,
          title=self.sources.name(source_id),
          pitched=model.config.pitch_classes > 0)
      buffer = io.BytesIO()
      figure.savefig(buffer, format='png', dpi=PLOT_DPI)
      self._plots[source_id] = buffer.getvalue()
    return self._plots[source_id]

  def _render(self, job, report):
    """`RenderQueue`'s render: the job's pack into its folder."""
    settings = job.settings
    if self.packs.is_complete(job.pack):
      return
    self.packs.write_names(job.pack, [self.sources.name(source)
                                      for source in settings['sources']])
    model = self.model()
    progress = renders.Progress(len(self._notes(settings)),
                                sample_pack.DEFAULT_BATCH_SIZE, report)
    sample_pack.render_pack(
        model, [self.sources.path(source) for source in settings['sources']],
        self.packs.path(job.pack), settings['points'], settings['pitches'],
        self._note_samples(settings), seed=settings['seed'],
        batch_size=sample_pack.DEFAULT_BATCH_SIZE, model_name=self.model_name,
        progress=progress.within_batch, on_batch=progress.on_batch,
        harmonic_filter_db=settings.get('harmonic_filter_db', 0.0),
        retry_off_pitch=settings.get('retry_off_pitch', False),
        expected_value=settings.get('expected_value', False))
    logger.info('Pack %s rendered.', job.pack)
