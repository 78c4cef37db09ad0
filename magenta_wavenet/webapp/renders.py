"""The studio's render queue: one worker thread renders packs in turn.

Renders are jobs run first in, first out by a single thread, so two
requests never interleave their notes; asking for a pack that is already
queued or rendering returns that job. A job is 'queued', 'running', 'done',
'failed' (with a one-line message) or 'cancelled', and its progress is the
fraction of the pack's notes rendered, updated within each batch from
`generation.synthesize`'s progress.

Jobs live on disk, one JSON file each (`<folder>/<id>.json`, written
atomically at every change of state): a server killed mid-render finds its
queued and running jobs again when it starts, under the same ids, and
renders them in their order, their progress starting from the notes already
written. At most `MAX_WAITING` jobs wait behind the running one, and any
job can be cancelled: a running one stops within a chunk of samples,
keeping the notes already written.
"""

import dataclasses
import json
import logging
import os
import queue
import threading
import time

from magenta_wavenet import sample_pack
from magenta_wavenet.errors import USER_ERRORS
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.errors import describe
from magenta_wavenet.files import atomic_write
from magenta_wavenet.webapp import ids

logger = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = (
    'queued', 'running', 'done', 'failed', 'cancelled')
ACTIVE = (QUEUED, RUNNING)
MAX_WAITING = 3  # jobs queued behind the running one
MAX_POINTS = 9
MAX_PITCHES = 25
MAX_NOTE_SECONDS = 4.0
MAX_NOTES = 400  # a 4 x 4 grid at 25 pitches
MAX_HARMONIC_FILTER_DB = 60.0


def _integer(value, what):
  if isinstance(value, bool) or not isinstance(value, (int, str)):
    raise MagentaWavenetError(f'{what} must be a whole number.')
  try:
    return int(value)
  except ValueError:
    raise MagentaWavenetError(f'{what} must be a whole number.') from None


SETTINGS = ('sources', 'points', 'pitches', 'note_seconds', 'seed',
            'harmonic_filter_db', 'retry_off_pitch', 'expected_value')


class QueueFull(MagentaWavenetError):
  """`MAX_WAITING` renders already wait (HTTP 429)."""


class Conflict(MagentaWavenetError):
  """A request that the job's state no longer allows (HTTP 409)."""


class Cancelled(Exception):
  """Raised inside a render's progress report to stop a cancelled job."""


def check_settings(request, min_note_seconds, harmonic_filter_db=0.0,
                   retry_off_pitch=False, expected_value=False):
  """The render settings of a request's JSON body, checked.

  Args:
    request: dict with 'sources' (2 or 4 source ids), 'points' (2 to
      `MAX_POINTS`), 'pitches' (MIDI numbers), 'note_seconds' (at least
      `min_note_seconds`, at most `MAX_NOTE_SECONDS`) and optionally 'seed'
      (>= 0, default 0), 'harmonic_filter_db' (dB taken off between each
      note's harmonics, `harmonics.harmonic_filter`; 0 to
      `MAX_HARMONIC_FILTER_DB`) and 'retry_off_pitch' (true or false:
      whether a note that does not play its pitch is generated again from
      its sources moved a semitone or two, `sample_pack.render_pack`) and
      'expected_value' (true or false: whether each note is written as its
      samples' expected values, `generation.synthesize`'s); no other
      key.
    min_note_seconds: The shortest note, seconds: the model's hop (one frame
      of code), so that no note rounds to nothing.
    harmonic_filter_db: The filter of a request without one.
    retry_off_pitch: The retry of a request without one.
    expected_value: The expected values of a request without one.

  Returns:
    dict with the same keys: sources a list of str, points an int, pitches
    sorted distinct ints, note_seconds a float, seed an int,
    harmonic_filter_db a float only when it is not 0, and retry_off_pitch
    and expected_value True only when they are true (so that the settings,
    and the pack ids made of them, of renders without them stay as they
    were).

  Raises:
    MagentaWavenetError: one line naming the setting at fault.
  """
  if not isinstance(request, dict):
    raise MagentaWavenetError('send the render settings as a JSON object.')
  unknown = sorted(set(request) - set(SETTINGS))
  if unknown:
    raise MagentaWavenetError(
        f'unknown setting {unknown[0][:40]!r}; the settings are '
        f'{", ".join(SETTINGS)}.')
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
      not min_note_seconds <= seconds <= MAX_NOTE_SECONDS):
    raise MagentaWavenetError(
        f'note length must be at least one hop of the model '
        f'({min_note_seconds:g} s) and at most {MAX_NOTE_SECONDS:g} s.')
  seed = _integer(request.get('seed', 0), 'seed')
  if seed < 0:
    raise MagentaWavenetError('seed must be 0 or more.')
  filter_db = request.get('harmonic_filter_db', harmonic_filter_db)
  if isinstance(filter_db, bool) or not isinstance(filter_db, (int, float)) or (
      not 0 <= filter_db <= MAX_HARMONIC_FILTER_DB):
    raise MagentaWavenetError(
        f'the harmonic filter takes 0 to {MAX_HARMONIC_FILTER_DB:g} dB.')
  retry = request.get('retry_off_pitch', retry_off_pitch)
  if not isinstance(retry, bool):
    raise MagentaWavenetError('retry_off_pitch must be true or false.')
  expected = request.get('expected_value', expected_value)
  if not isinstance(expected, bool):
    raise MagentaWavenetError('expected_value must be true or false.')
  notes = len(pitches) * points ** (1 if len(sources) == 2 else 2)
  if notes > MAX_NOTES:
    raise MagentaWavenetError(
        f'{notes} notes is too many for one pack; at most {MAX_NOTES}.')
  filtered = {'harmonic_filter_db': float(filter_db)} if filter_db else {}
  retried = {'retry_off_pitch': True} if retry else {}
  means = {'expected_value': True} if expected else {}
  return {'sources': sources, 'points': points, 'pitches': pitches,
          'note_seconds': float(seconds), 'seed': seed, **filtered,
          **retried, **means}


@dataclasses.dataclass
class Job:
  """One render. Times are `time.time()` seconds, None until reached;
  `estimated_seconds` is the render's time from the benchmark's step times
  on this machine, None where it never ran."""
  id: str
  pack: str
  settings: dict
  state: str = QUEUED
  progress: float = 0.0
  message: str = ''
  estimated_seconds: float = None
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
      with its message. `report` raises `Cancelled` once the job is
      cancelled, which ends the render there.
    folder: Where the jobs are kept (created); the active jobs found there
      are queued again, in the order they were first queued.
    progress_so_far: Function (job) -> the fraction of its pack already
      written, the progress a job restored from disk starts at.

  The worker is a daemon thread: stopping the server stops a render midway,
  and the next start completes it.
  """

  def __init__(self, render, folder, progress_so_far):
    self._render = render
    self._folder = folder
    self._jobs = {}
    self._cancelled = set()
    self._lock = threading.Lock()
    self._queue = queue.Queue()
    os.makedirs(folder, exist_ok=True)
    for job in sorted(self._read_jobs(), key=lambda job: job.queued_at):
      self._jobs[job.id] = job
      if job.state in ACTIVE:
        job.state, job.started_at = QUEUED, None
        job.progress = progress_so_far(job)
        self._keep(job)
        self._queue.put(job)
        logger.info('Render %s resumed: %.0f%% of its notes were written.',
                    job.id, 100 * job.progress)
    self._thread = threading.Thread(target=self._work, name='studio-render',
                                    daemon=True)
    self._thread.start()

  def submit(self, pack, settings, estimated_seconds=None):
    """Queues the render of `pack`; returns its Job (an active one for the
    same pack is returned as it is).

    Raises:
      QueueFull: when `MAX_WAITING` jobs already wait.
    """
    with self._lock:
      for job in self._jobs.values():
        if job.pack == pack and job.state in ACTIVE:
          return job
      waiting = sum(job.state == QUEUED for job in self._jobs.values())
      if waiting >= MAX_WAITING:
        raise QueueFull(f'{waiting} renders are already waiting; wait for '
                        'one to finish, or cancel one.')
      job = Job(id=ids.new_id(), pack=pack, settings=settings,
                estimated_seconds=estimated_seconds)
      self._save(job)
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

  def cancel(self, job_id):
    """Cancels a job: a queued one at once, a running one at its next
    progress report. Returns the Job; cancelling a cancelled job again is
    no error.

    Raises:
      ids.NotFound: for an unknown id.
      Conflict: for a job already done or failed.
    """
    with self._lock:
      job = self.get(job_id)
      if job.state in (DONE, FAILED):
        raise Conflict(f'the render is {job.state}: nothing to cancel.')
      if job.state == QUEUED:
        self._finish(job, CANCELLED, 'cancelled before it started.')
      elif job.state == RUNNING:
        self._cancelled.add(job.id)
    return job

  def _finish(self, job, state, message=''):
    job.state, job.message, job.finished_at = state, message, time.time()
    self._keep(job)

  def _save(self, job):
    """Writes the job's file. Raises OSError (a full or read-only disk)."""
    def write(temporary):
      with open(temporary, 'w', encoding='utf-8') as stream:
        json.dump(job.to_dict(), stream)
    atomic_write(os.path.join(self._folder, job.id + '.json'), write)

  def _keep(self, job):
    """`_save` where a failure must not stop the queue: it is logged, and
    the job goes on in memory."""
    try:
      self._save(job)
    except OSError as error:
      logger.error('Render %s: its state could not be kept on disk: %s',
                   job.id, describe(error))

  def _read_jobs(self):
    """The jobs kept in the folder; an unreadable file is logged and left."""
    for name in sorted(os.listdir(self._folder)):
      path = os.path.join(self._folder, name)
      if not (name.endswith('.json') and ids.ID_PATTERN.fullmatch(name[:-5])
              and ids.is_regular_file(path)):
        continue
      try:
        with open(path, encoding='utf-8') as stream:
          job = Job(**json.load(stream))
      except (OSError, ValueError, TypeError) as error:
        logger.warning('Render file %s left aside: %s', path, describe(error))
        continue
      if job.id == name[:-5]:
        yield job

  def _work(self):
    while True:
      job = self._queue.get()
      with self._lock:
        if job.state != QUEUED:  # cancelled while it waited
          continue
        job.state, job.started_at = RUNNING, time.time()
        self._keep(job)

      def report(fraction, job=job):
        if job.id in self._cancelled:
          raise Cancelled()
        job.progress = max(job.progress, min(float(fraction), 1.0))
      try:
        self._render(job, report)
      except Cancelled:
        state, message = CANCELLED, 'cancelled; the notes written are kept.'
      except USER_ERRORS as error:
        state, message = FAILED, describe(error)
      except Exception as error:  # pylint: disable=broad-except
        # A bug: logged with its traceback; the queue goes on.
        logger.exception('Render %s failed.', job.id)
        state, message = FAILED, f'internal error: {error}'
      else:
        state, message = DONE, ''
        job.progress = 1.0
      with self._lock:
        self._cancelled.discard(job.id)
        self._finish(job, state, message)
