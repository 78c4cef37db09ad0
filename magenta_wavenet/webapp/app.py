"""The studio's HTTP API and page (FastAPI).

    GET    /                               the page (static/index.html)
    GET    /api/sources                    bundled sounds and uploads
    POST   /api/uploads?name=<file name>   the file's bytes as the body, or
                                           an HTML form's multipart upload
    GET    /api/sources/{id}/plot.png      waveform above its code
    GET    /api/defaults                   the studio's own render defaults
    POST   /api/renders                    JSON settings -> a queued job
    GET    /api/renders/{id}               the job's state and progress
    DELETE /api/renders/{id}               cancels the job
    GET    /api/packs                      the complete packs, newest first
    GET    /api/packs/{id}                 one pack: grid, pitches, samples
    GET    /api/packs/{id}/samples/{name}  one note's WAV
    GET    /api/packs/{id}.zip             the whole pack

Every error is JSON {"detail": message}, which the page shows: 400 for bad
input (and a Host the studio does not answer to), 403 for a request from
another site, 404 for an unknown id or a note not rendered yet, 409 for
cancelling a finished render, 413 for an upload over the size or length
limit or settings over `MAX_SETTINGS_BYTES`, 415 for settings not sent as
JSON, 429 when too many renders wait, 503 when the work folder cannot be
written, 507 when its disk is full, and 500 for a bug (its traceback goes to
the log).

What a web page in the user's browser could otherwise do to a local server
is refused: a request whose Host is not one of the studio's names (DNS
rebinding: a hostile name resolving to 127.0.0.1) gets 400, and a request
that changes anything (POST, DELETE) from another origin, by its `Origin` or
`Sec-Fetch-Site` header, gets 403.
"""

import errno
import json
import logging
import os
from urllib import parse

import fastapi
from fastapi import concurrency
from fastapi import responses
from fastapi import staticfiles
from starlette import datastructures
from starlette import formparsers

from magenta_wavenet.errors import AudioTooLong
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.errors import describe
from magenta_wavenet.webapp import ids
from magenta_wavenet.webapp import renders
from magenta_wavenet.webapp.service import Studio
from magenta_wavenet.webapp.sources import DEFAULT_MAX_SECONDS
from magenta_wavenet.webapp.sources import TooLarge

logger = logging.getLogger(__name__)

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'static')
DEFAULT_MAX_UPLOAD_BYTES = 20 * 2**20
MAX_SETTINGS_BYTES = 16 * 2**10  # the largest valid settings take under 1 KB
ZIP_CHUNK_BYTES = 2**16
# The names of this machine's loopback interface, which the studio answers
# to by default.
LOOPBACK_NAMES = ('127.0.0.1', 'localhost', '::1')
SAFE_METHODS = ('GET', 'HEAD', 'OPTIONS')
# Sec-Fetch-Site values of a request from the page itself, or typed by hand.
OWN_SITES = ('same-origin', 'none')
FULL_DISK = (errno.ENOSPC, errno.EDQUOT)


class BodyTooLarge(MagentaWavenetError):
  """A request body over its route's limit (HTTP 413)."""


class UnsupportedType(MagentaWavenetError):
  """A body sent with a content type the route does not take (HTTP 415)."""


STATUSES = ((ids.NotFound, 404), (renders.Conflict, 409), (TooLarge, 413),
            (AudioTooLong, 413), (BodyTooLarge, 413), (UnsupportedType, 415),
            (renders.QueueFull, 429))


def host_name(host):
  """The name part of a Host header or URL netloc ('[::1]:8765' -> '::1'),
  lower-case; '' for none."""
  return (parse.urlsplit(f'//{host}').hostname or '') if host else ''


def foreign_request(request, names):
  """Why a request must be refused as not the studio's own.

  Args:
    request: The `fastapi.Request`.
    names: Host names the studio answers to.

  Returns:
    (status, message), or None for a request to serve.
  """
  host = request.headers.get('host', '')
  if host_name(host) not in names:
    return 400, (f'this studio does not answer to the host {host[:80]!r}; '
                 'open it at the address it printed, or start it with '
                 f'--allowed_hosts={host_name(host)[:80]}.')
  if request.method in SAFE_METHODS:
    return None
  origin = request.headers.get('origin')
  site = request.headers.get('sec-fetch-site')
  if origin is not None and origin.lower() not in (f'http://{host}'.lower(),
                                                   f'https://{host}'.lower()):
    return 403, f'requests from {origin[:80]!r} are refused: use the page.'
  if site is not None and site not in OWN_SITES:
    return 403, 'requests from other sites are refused: use the page.'
  return None


async def read_body(request, limit, too_large):
  """The request's body, read no further than the chunk past `limit` bytes.

  Raises:
    too_large: the error given, for a body over `limit` bytes.
  """
  length = request.headers.get('content-length', '')
  if length.isdigit() and int(length) > limit:
    raise too_large
  data = bytearray()
  async for chunk in request.stream():
    data += chunk
    if len(data) > limit:
      raise too_large
  return bytes(data)


async def uploaded_file(request, data, name):
  """(bytes, file name) of an upload: the body as it is, or the first file
  of a multipart form (what an HTML form sends), with the form's file name.

  Raises:
    MagentaWavenetError: for a form without a file.
  """
  content_type = request.headers.get('content-type', '')
  if not content_type.lower().startswith('multipart/form-data'):
    return data, name

  async def body():
    yield data
  try:
    form = await formparsers.MultiPartParser(
        request.headers, body(), max_files=1, max_fields=8,
        max_part_size=len(data) + 1).parse()
  except formparsers.MultiPartException as error:
    raise MagentaWavenetError(f'{name}: not a readable form upload '
                              f'({error.message}).') from None
  files = [value for _, value in form.multi_items()
           if isinstance(value, datastructures.UploadFile)]
  if not files:
    raise MagentaWavenetError('the form has no file: send the sound file as '
                              'the body, or as a form\'s file field.')
  return await files[0].read(), files[0].filename or name


def parse_settings(data):
  """The JSON of a render request's body.

  Raises:
    MagentaWavenetError: for anything but JSON, nesting too deep included.
  """
  try:
    return json.loads(data)
  except (ValueError, RecursionError):
    raise MagentaWavenetError('send the render settings as JSON.') from None


def create_app(workdir, load_model, model_name,
               max_upload_bytes=DEFAULT_MAX_UPLOAD_BYTES,
               max_upload_seconds=DEFAULT_MAX_SECONDS, default_pack=None,
               hosts=LOOPBACK_NAMES, harmonic_filter_db=0.0,
               retry_off_pitch=False, expected_value=False):
  """The studio's FastAPI app.

  Args:
    workdir: Folder of uploads, packs and render jobs (created); renders a
      stopped server left active there are resumed.
    load_model: Function of no arguments returning the model; called once,
      on first use.
    model_name: The model's name or path, for the packs' manifests and ids.
    max_upload_bytes: Largest upload accepted; larger ones get status 413.
    max_upload_seconds: Longest upload accepted once decoded, seconds;
      longer ones get status 413.
    default_pack: Render settings queued at once unless that pack is
      complete (`service.DEFAULT_PACK`); None queues nothing.
    hosts: Host names the studio answers to (the Host header's name part,
      IPv6 addresses with or without brackets); requests naming another get
      400.
    harmonic_filter_db: The filter of the renders whose settings do not
      give one (`Studio`).
    retry_off_pitch: Whether the renders whose settings do not say retry
      their notes off their pitch (`Studio`).
    expected_value: Whether the renders whose settings do not say write
      their samples' expected values (`Studio`).

  Returns:
    A `fastapi.FastAPI`; its `state.studio` is the `service.Studio`.
  """
  studio = Studio(workdir, load_model, model_name, max_upload_bytes,
                  max_upload_seconds, harmonic_filter_db, retry_off_pitch,
                  expected_value)
  if default_pack is not None:
    studio.submit(default_pack)
  names = {host.strip('[]').lower() for host in hosts}
  app = fastapi.FastAPI(title='magenta_wavenet studio', docs_url=None,
                        redoc_url=None, openapi_url=None)
  app.state.studio = studio

  def refuse(status, detail):
    return responses.JSONResponse({'detail': detail}, status_code=status)

  @app.middleware('http')
  async def own_requests_only(request, call_next):
    refused = foreign_request(request, names)
    if refused:
      logger.warning('Refused %s %s: %s', request.method, request.url.path,
                     refused[1])
      return refuse(*refused)
    return await call_next(request)

  @app.exception_handler(MagentaWavenetError)
  def bad_input(request, error):
    del request  # unused
    status = next((code for kind, code in STATUSES
                   if isinstance(error, kind)), 400)
    return refuse(status, str(error))

  @app.exception_handler(OSError)
  def unwritable(request, error):
    logger.error('%s %s: %s', request.method, request.url.path,
                 describe(error), exc_info=error)
    if error.errno in FULL_DISK:
      return refuse(507, 'the studio\'s disk is full: nothing was stored.')
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
      return refuse(503, 'the studio\'s folder cannot be written: nothing '
                    'was stored.')
    return refuse(500, 'internal error: the server\'s log has the cause.')

  @app.exception_handler(Exception)
  def internal_error(request, error):
    logger.error('%s %s failed.', request.method, request.url.path,
                 exc_info=error)
    return refuse(500, 'internal error: the server\'s log has the cause.')

  @app.get('/', include_in_schema=False)
  def page():
    return responses.FileResponse(os.path.join(STATIC, 'index.html'))

  @app.get('/api/sources')
  def sources():
    return studio.sources.listing()

  @app.post('/api/uploads', status_code=201)
  async def upload(request: fastapi.Request, name: str = 'upload'):
    data = await read_body(request, max_upload_bytes,
                           studio.sources.too_large(name))
    data, name = await uploaded_file(request, data, name)
    return await concurrency.run_in_threadpool(studio.sources.add, data, name)

  @app.get('/api/sources/{source_id}/plot.png')
  def plot(source_id: str):
    return responses.Response(studio.plot_png(source_id),
                              media_type='image/png')

  @app.get('/api/defaults')
  def defaults():
    return studio.defaults()

  @app.post('/api/renders', status_code=202)
  async def render(request: fastapi.Request):
    content_type = request.headers.get('content-type', '')
    if content_type.split(';')[0].strip().lower() != 'application/json':
      raise UnsupportedType('send the render settings as JSON, with '
                            'Content-Type: application/json.')
    settings = parse_settings(await read_body(
        request, MAX_SETTINGS_BYTES, BodyTooLarge(
            f'render settings over {MAX_SETTINGS_BYTES // 2**10} KB.')))
    return await concurrency.run_in_threadpool(studio.submit, settings)

  @app.get('/api/renders/{job_id}')
  def job(job_id: str):
    return studio.renders.get(job_id).to_dict()

  @app.delete('/api/renders/{job_id}')
  def cancel(job_id: str):
    return studio.renders.cancel(job_id).to_dict()

  @app.get('/api/packs')
  def packs():
    return studio.packs.listing()

  @app.get('/api/packs/{pack}.zip')
  def pack_zip(pack: str):
    archive = studio.packs.zipped(pack)

    def chunks():
      with archive:
        while chunk := archive.read(ZIP_CHUNK_BYTES):
          yield chunk
    return responses.StreamingResponse(
        chunks(), media_type='application/zip', headers={
            'Content-Disposition': f'attachment; filename="pack_{pack}.zip"'})

  @app.get('/api/packs/{pack}')
  def pack_info(pack: str):
    return studio.packs.info(pack)

  @app.get('/api/packs/{pack}/samples/{name}')
  def sample(pack: str, name: str):
    return responses.FileResponse(studio.packs.sample(pack, name),
                                  media_type='audio/wav')

  app.mount('/static', staticfiles.StaticFiles(directory=STATIC),
            name='static')
  return app
