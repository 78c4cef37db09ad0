"""The studio's render queue: one worker thread renders packs in turn.

Renders are jobs run first in, first out by a single thread, so two
requests never interleave their notes; asking for a pack that is already
queued or rendering returns that job. A job is 'queued', 'running', 'done'
or 'failed' (with a one-line message), and its progress is the fraction of
the pack's notes rendered, updated within each batch from
`generation.synthesize`'s progress.
"""

import dataclasses
import logging
import queue
import threading
import time

from magenta_wavenet import sample_pack
from magenta_wavenet.cli.common import describe
from magenta_wavenet.errors import USER_ERRORS
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.webapp import ids

logger = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = 'queued', 'running', 'done', 'failed'
MAX_POINTS = 9
MAX_PITCHES = 25
MAX_NOTE_SECONDS = 4.0
MAX_NOTES = 400  # a 4 x 4 grid at 25 pitches


def _integer(value, what):
  if isinstance(value, bool) or not isinstance(value, (int, str)):
    raise MagentaWavenetError(f'{what} must be a whole number.')
  try:
    return int(value)
  except ValueError:
    raise MagentaWavenetError(f'{what} must be a whole number.') from None


def check_settings(request):
  """The render settings of a request's JSON body, checked.

  Args:
    request: dict with 'sources' (2 or 4 source ids), 'points' (2 to
      `MAX_POINTS`), 'pitches' (MIDI numbers), 'note_seconds' (above 0, at
      most `MAX_NOTE_SECONDS`) and optionally 'seed' (>= 0, default 0).

  Returns:
    dict with the same keys: sources a list of str, points an int, pitches
    sorted distinct ints, note_seconds a float, seed an int.

  Raises:
    MagentaWavenetError: one line naming the setting at fault.
  """
  if not isinstance(request, dict):
    raise MagentaWavenetError('send the render settings as a JSON object.')
  sources = request.get('sources')
  if not isinstance(sources, list) or not all(
      isinstance(source, str) for source in sources):
    raise MagentaWavenetError('sources must be a list of sound ids.')
  sample_pack.check_source_count(len(sources))
  if len(set(sources)) != len(sources):
    raise MagentaWavenetError('choose different sounds, not one twice.')
  points = _integer(request.get('points'), 'points')
  if not 2 <= points <= MAX_POINTS:
    raise MagentaWavenetError(f'points must be 2 to {MAX_POINTS}.')
  pitches = request.get('pitches')
  if not isinstance(pitches, list) or not all(
      isinstance(pitch, (int, str)) for pitch in pitches):
    raise MagentaWavenetError('pitches must be a list of MIDI numbers.')
  pitches = list(sample_pack.check_pitches(pitches))
  if len(pitches) > MAX_PITCHES:
    raise MagentaWavenetError(f'at most {MAX_PITCHES} pitches.')
  seconds = request.get('note_seconds')
  if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or (
      not 0 < seconds <= MAX_NOTE_SECONDS):
    raise MagentaWavenetError(
        f'note length must be above 0 and at most {MAX_NOTE_SECONDS:g} s.')
  seed = _integer(request.get('seed', 0), 'seed')
  if seed < 0:
    raise MagentaWavenetError('seed must be 0 or more.')
  notes = len(pitches) * points ** (1 if len(sources) == 2 else 2)
  if notes > MAX_NOTES:
    raise MagentaWavenetError(
        f'{notes} notes is too many for one pack; at most {MAX_NOTES}.')
  return {'sources': sources, 'points': points, 'pitches': pitches,
          'note_seconds': float(seconds), 'seed': seed}


@dataclasses.dataclass
class Job:
  """One render. Times are `time.time()` seconds, None until reached."""
  id: str
  pack: str
  settings: dict
  state: str = QUEUED
  progress: float = 0.0
  message: str = ''
  queued_at: float = dataclasses.field(default_factory=time.time)
  started_at: float = None
  finished_at: float = None

  def to_dict(self):
    return dataclasses.asdict(self)


class Progress:
  """Turns `render_pack`'s callbacks into the fraction of notes rendered.

  Args:
    notes: Notes in the pack.
    batch_size: Notes generated together.
    report: Called with the fraction in [0, 1], never decreasing.
  """

  def __init__(self, notes, batch_size, report):
    self.notes, self.batch_size, self.report = notes, batch_size, report
    self.done = 0

  def on_batch(self, done, total):
    """`render_pack`'s on_batch: `done` of `total` notes written."""
    self.done = done
    self.report(done / total)

  def within_batch(self, done, total, rate):
    """`generation.synthesize`'s progress: `done` of `total` samples of the
    batch at `rate` samples/s."""
    del rate  # unused
    batch = min(self.batch_size, self.notes - self.done)
    self.report((self.done + batch * done / total) / self.notes)


class RenderQueue:
  """Runs `render(job, report)` for each submitted job, one at a time.

  Args:
    render: Function (job, report) rendering `job`'s pack and calling
      report(fraction) as it goes; a `USER_ERRORS` it raises fails the job
      with its message.

  The worker is a daemon thread: stopping the server stops a render midway,
  and the next request for that pack completes it.
  """

  def __init__(self, render):
    self._render = render
    self._jobs = {}
    self._lock = threading.Lock()
    self._queue = queue.Queue()
    self._thread = threading.Thread(target=self._work, name='studio-render',
                                    daemon=True)
    self._thread.start()

  def submit(self, pack, settings):
    """Queues the render of `pack`; returns its Job (an active one for the
    same pack is returned as it is)."""
    with self._lock:
      for job in self._jobs.values():
        if job.pack == pack and job.state in (QUEUED, RUNNING):
          return job
      job = Job(id=ids.new_id(), pack=pack, settings=settings)
      self._jobs[job.id] = job
    self._queue.put(job)
    return job

  def get(self, job_id):
    """The Job of an id.

    Raises:
      ids.NotFound: for an unknown or malformed id.
    """
    job = self._jobs.get(ids.check_id(job_id, 'render'))
    if job is None:
      raise ids.NotFound('no such render.')
    return job

  def _work(self):
    while True:
      job = self._queue.get()
      if job is None:
        return
      job.state, job.started_at = RUNNING, time.time()

      def report(fraction, job=job):
        job.progress = max(job.progress, min(float(fraction), 1.0))
      try:
        self._render(job, report)
      except USER_ERRORS as error:
        job.state, job.message = FAILED, describe(error)
      except Exception as error:  # pylint: disable=broad-except
        # A bug: logged with its traceback; the queue goes on.
        logger.exception('Render %s failed.', job.id)
        job.state, job.message = FAILED, f'internal error: {error}'
      else:
        job.state, job.progress = DONE, 1.0
      job.finished_at = time.time()
