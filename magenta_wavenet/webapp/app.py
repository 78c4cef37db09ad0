"""The studio's HTTP API and page (FastAPI).

    GET  /                               the page (static/index.html)
    GET  /api/sources                    bundled sounds and uploads
    POST /api/uploads?name=<file name>   the file's bytes as the body
    GET  /api/sources/{id}/plot.png      waveform above its code
    POST /api/renders                    JSON settings -> a queued job
    GET  /api/renders/{id}               the job's state and progress
    GET  /api/packs                      the complete packs, newest first
    GET  /api/packs/{id}                 one pack: grid, pitches, samples
    GET  /api/packs/{id}/samples/{name}  one note's WAV
    GET  /api/packs/{id}.zip             the whole pack

Bad input gives status 400 (413 for an upload over the limit), an unknown
id 404, each with {"detail": message}, which the page shows.
"""

import os

import fastapi
from fastapi import concurrency
from fastapi import responses
from fastapi import staticfiles

from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.webapp import ids
from magenta_wavenet.webapp.service import Studio
from magenta_wavenet.webapp.sources import TooLarge

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'static')
DEFAULT_MAX_UPLOAD_BYTES = 20 * 2**20
ZIP_CHUNK_BYTES = 2**16


def create_app(workdir, load_model, model_name,
               max_upload_bytes=DEFAULT_MAX_UPLOAD_BYTES, default_pack=None):
  """The studio's FastAPI app.

  Args:
    workdir: Folder of uploads and packs (created).
    load_model: Function of no arguments returning the model; called once,
      on first use.
    model_name: The model's name or path, for the packs' manifests and ids.
    max_upload_bytes: Largest upload accepted; larger ones get status 413.
    default_pack: Render settings queued at once unless that pack is
      complete (`service.DEFAULT_PACK`); None queues nothing.

  Returns:
    A `fastapi.FastAPI`; its `state.studio` is the `service.Studio`.
  """
  studio = Studio(workdir, load_model, model_name, max_upload_bytes)
  if default_pack is not None:
    studio.submit(default_pack)
  app = fastapi.FastAPI(title='magenta_wavenet studio', docs_url=None,
                        redoc_url=None, openapi_url=None)
  app.state.studio = studio

  @app.exception_handler(MagentaWavenetError)
  def bad_input(request, error):
    del request  # unused
    status = (404 if isinstance(error, ids.NotFound) else
              413 if isinstance(error, TooLarge) else 400)
    return responses.JSONResponse({'detail': str(error)}, status_code=status)

  @app.get('/', include_in_schema=False)
  def page():
    return responses.FileResponse(os.path.join(STATIC, 'index.html'))

  @app.get('/api/sources')
  def sources():
    return studio.sources.listing()

  @app.post('/api/uploads', status_code=201)
  async def upload(request: fastapi.Request, name: str = 'upload'):
    data = bytearray()
    async for chunk in request.stream():
      data += chunk
      if len(data) > max_upload_bytes:
        break  # refused by `add` without reading the rest
    return await concurrency.run_in_threadpool(
        studio.sources.add, bytes(data), name)

  @app.get('/api/sources/{source_id}/plot.png')
  def plot(source_id: str):
    return responses.Response(studio.plot_png(source_id),
                              media_type='image/png')

  @app.post('/api/renders', status_code=202)
  async def render(request: fastapi.Request):
    try:
      settings = await request.json()
    except ValueError:
      raise MagentaWavenetError('send the render settings as JSON.') from None
    return await concurrency.run_in_threadpool(studio.submit, settings)

  @app.get('/api/renders/{job_id}')
  def job(job_id: str):
    return studio.renders.get(job_id).to_dict()

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
