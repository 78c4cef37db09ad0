"""The studio under hostile input, on 127.0.0.1 only.

Each case is one a user's browser, another web page or a local process can
send: decompression bombs, bodies too large or too deep, requests from
other sites and other host names, links in the work folder, a full disk,
work that never ends, and a server killed mid-render. Every loop is bounded
in count and time.
"""

import errno
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile

from conftest import tiny_pitch_model
from conftest import tone
from fastapi.testclient import TestClient
import numpy as np
import pytest
import soundfile

import magenta_wavenet as mw
from magenta_wavenet.model import pretrained
from magenta_wavenet.synthesis import batch_choice
from magenta_wavenet.webapp import app as app_lib
from magenta_wavenet.webapp import renders
from magenta_wavenet.webapp import sources as sources_lib

RATE = 16000
HOST = '127.0.0.1:8765'
BASE_URL = f'http://{HOST}'
SECRET = b'secret outside the studio'
# Long enough to be caught running: 2 x 9 points x 8 pitches = 72 notes of
# 0.5 s, 5 batches of 16 notes (a few seconds with the tiny model).
LONG_RENDER = {'points': 9, 'pitches': list(range(60, 68)),
               'note_seconds': 0.5, 'seed': 1}
TIMEOUT = 120


@pytest.fixture(scope='module')
def model():
  return tiny_pitch_model()


@pytest.fixture
def workdir(tmp_path):
  (tmp_path / 'secret.wav').write_bytes(SECRET)
  return tmp_path / 'studio'


@pytest.fixture
def client(workdir, model):
  return TestClient(app_lib.create_app(str(workdir), lambda: model,
                                       'tiny_pitch', max_upload_seconds=5.0),
                    base_url=BASE_URL)


def wav_bytes(audio, rate=RATE):
  buffer = io.BytesIO()
  soundfile.write(buffer, audio, rate, format='WAV', subtype='PCM_16')
  return buffer.getvalue()


def upload(client, data, name='note.wav', **kwargs):
  return client.post('/api/uploads', params={'name': name}, content=data,
                     **kwargs)


def two_sources(client):
  return [upload(client, wav_bytes(tone(4800, frequency=frequency)),
                 name=f'{frequency:g}.wav').json()['id']
          for frequency in (220.0, 330.0)]


def post_json(client, body, **headers):
  return client.post('/api/renders', content=json.dumps(body).encode(),
                     headers={'Content-Type': 'application/json', **headers})


def wait_for(client, job_id, done, timeout=TIMEOUT):
  """Polls a render until `done(job)`; returns the job."""
  deadline = time.monotonic() + timeout
  while True:
    job = client.get(f'/api/renders/{job_id}').json()
    if done(job):
      return job
    assert time.monotonic() < deadline, job
    time.sleep(0.02)


def ended(job):
  return job['state'] not in renders.ACTIVE


def files_under(folder):
  return sorted(os.path.relpath(os.path.join(root, name), folder)
                for root, _, names in os.walk(folder) for name in names)


def assert_detail(response, status, text):
  assert response.status_code == status, response.text
  assert response.headers['content-type'] == 'application/json'
  assert text in response.json()['detail'], response.json()


# 4. Decompression bombs.

def test_a_small_file_of_long_audio_is_refused_before_decoding(
    client, workdir, tmp_path):
  bomb = tmp_path / 'silence.ogg'
  with soundfile.SoundFile(bomb, 'w', 48000, 2, format='OGG') as stream:
    for _ in range(30 * 60):  # 30 minutes, a second at a time
      stream.write(np.zeros((48000, 2), np.float32))
  assert bomb.stat().st_size < 400_000
  started = time.monotonic()
  response = upload(client, bomb.read_bytes(), name='silence.ogg')
  assert time.monotonic() - started < 5  # not 30 minutes decoded
  assert_detail(response, 413, 'silence.ogg: too long: more than 5 s')
  assert files_under(workdir / 'uploads') == []


def test_a_header_that_understates_the_length_is_caught_while_decoding(
    client, workdir, monkeypatch):
  real_info = soundfile.info

  def lying_info(path):
    info = real_info(path)
    info.frames = 100
    return info
  monkeypatch.setattr(soundfile, 'info', lying_info)
  response = upload(client, wav_bytes(tone(RATE * 6)), name='six.wav')
  assert_detail(response, 413, 'six.wav: too long: more than 5 s')
  assert upload(client, wav_bytes(tone(RATE * 4))).status_code == 201
  assert len(files_under(workdir / 'uploads')) == 2  # the 4 s WAV and name


# 5. Errors that were bare 500s.

def test_a_note_not_written_yet_is_404(client, workdir):
  wanted = dict(LONG_RENDER, sources=two_sources(client), points=2,
                pitches=[60], note_seconds=0.05)
  job = wait_for(client, post_json(client, wanted).json()['id'], ended)
  assert job['state'] == 'done'
  # As while a render writes its notes: listed, not there yet.
  os.remove(workdir / 'packs' / job['pack'] / 'samples' / 'p0_1_m060.wav')
  response = client.get(f'/api/packs/{job["pack"]}/samples/p0_1_m060.wav')
  assert_detail(response, 404, 'p0_1_m060.wav is not rendered yet')


def test_deeply_nested_json_is_400(client):
  # Under the size limit, deeper than Python's recursion limit.
  response = client.post('/api/renders', content=b'[' * 15_000,
                         headers={'Content-Type': 'application/json'})
  assert_detail(response, 400, 'send the render settings as JSON')


@pytest.mark.parametrize('code, status, text', [
    (errno.ENOSPC, 507, 'disk is full'),
    (errno.EROFS, 503, 'cannot be written'),
])
def test_an_unwritable_disk_is_named_and_logged(client, workdir, monkeypatch,
                                                caplog, code, status, text):
  def refuse(*args, **kwargs):
    raise OSError(code, os.strerror(code), str(workdir / 'uploads'))
  monkeypatch.setattr(sources_lib.audio_lib, 'save_wav', refuse)
  response = upload(client, wav_bytes(tone(4000)))
  assert_detail(response, status, text)
  assert files_under(workdir / 'uploads') == []
  assert os.strerror(code) in caplog.text


def test_unknown_routes_and_methods_answer_json(client):
  assert_detail(client.get('/api/nothing'), 404, 'Not Found')
  assert_detail(client.put('/api/packs'), 405, 'Method Not Allowed')


# 6. Render bodies.

def test_a_huge_body_is_refused_before_it_is_read(client):
  wanted = dict(LONG_RENDER, sources=['nsynth_e5', 'nsynth_b4'],
                extra='x' * 50 * 2**20)
  assert_detail(post_json(client, wanted), 413, 'render settings over 16 KB')

  def chunked():  # no Content-Length: the limit holds while reading
    yield b'{"extra": "'
    for _ in range(100):
      yield b'x' * 2**16
  response = client.post('/api/renders', content=chunked(),
                         headers={'Content-Type': 'application/json'})
  assert_detail(response, 413, 'render settings over 16 KB')


def test_unknown_settings_are_refused(client):
  wanted = dict(LONG_RENDER, sources=['nsynth_e5', 'nsynth_b4'], colour='red')
  assert_detail(post_json(client, wanted), 400, "unknown setting 'colour'")


@pytest.mark.parametrize('bad', [1, 0, 'yes', 'true', None, [], {}])
def test_a_retry_that_is_not_true_or_false_is_refused(client, workdir, bad):
  wanted = dict(LONG_RENDER, sources=['nsynth_e5', 'nsynth_b4'],
                retry_off_pitch=bad)
  response = post_json(client, wanted)
  assert_detail(response, 400, 'retry_off_pitch must be true or false.')
  assert response.json()['detail'] == 'retry_off_pitch must be true or false.'
  assert files_under(workdir / 'renders') == []


# 7. Unbounded work: a capped queue, cancels, the estimate.

def test_the_queue_is_capped_and_every_render_can_be_cancelled(client,
                                                               workdir):
  wanted = dict(LONG_RENDER, sources=two_sources(client))
  running = post_json(client, wanted).json()
  waiting = [post_json(client, dict(wanted, seed=seed)).json()
             for seed in range(2, 2 + renders.MAX_WAITING)]
  assert [job['state'] for job in waiting] == ['queued'] * renders.MAX_WAITING
  assert_detail(post_json(client, dict(wanted, seed=99)), 429,
                f'{renders.MAX_WAITING} renders are already waiting')
  for job in waiting:
    cancelled = client.delete(f'/api/renders/{job["id"]}')
    assert cancelled.status_code == 200
    assert cancelled.json()['state'] == 'cancelled'
  # The running one stops within a chunk, once it has written a batch.
  wait_for(client, running['id'], lambda job: job['progress'] > 16 / 72)
  assert client.delete(f'/api/renders/{running["id"]}').status_code == 200
  job = wait_for(client, running['id'], ended, timeout=30)
  assert job['state'] == 'cancelled' and job['progress'] < 1
  assert job['message'] == 'cancelled; the notes written are kept.'
  samples = workdir / 'packs' / running['pack'] / 'samples'
  written = [name for name in os.listdir(samples) if not name.startswith('.')]
  assert 16 <= len(written) < 72
  for name in written:
    assert soundfile.info(samples / name).frames == 8000
  assert_detail(client.delete('/api/renders/' + '0' * 32), 404,
                'no such render')
  # Later renders are not blocked by the cancelled ones.
  again = post_json(client, dict(wanted, points=2, pitches=[60],
                                 note_seconds=0.05)).json()
  assert wait_for(client, again['id'], ended)['state'] == 'done'
  assert_detail(client.delete(f'/api/renders/{again["id"]}'), 409,
                'the render is done: nothing to cancel')


def test_the_estimate_comes_from_the_benchmark_kept_here(client, model,
                                                         monkeypatch,
                                                         tmp_path):
  monkeypatch.setenv(pretrained.HOME_VARIABLE, str(tmp_path / 'cache'))
  wanted = dict(LONG_RENDER, sources=two_sources(client), points=2,
                pitches=[60, 64], note_seconds=0.05)
  assert post_json(client, wanted).json()['estimated_seconds'] is None
  batch_choice.save_timings(model.config, {('float32', 'numba'): {
      1: 0.05, 4: 0.1, 16: 0.2}})
  job = post_json(client, dict(wanted, seed=2)).json()
  # 4 notes of 800 samples in one batch, at batch 4's 0.1 ms a step.
  assert job['estimated_seconds'] == pytest.approx(0.08)


# 8. Note lengths that round to nothing.

@pytest.mark.parametrize('seconds', [1e-9, 0.0000625, 0.003])
def test_a_note_shorter_than_one_hop_is_refused(client, workdir, seconds):
  wanted = dict(LONG_RENDER, sources=['nsynth_e5', 'nsynth_b4'],
                note_seconds=seconds)
  assert_detail(post_json(client, wanted), 400,
                'note length must be at least one hop of the model')
  assert files_under(workdir / 'packs') == []


# 10. Requests from other sites and other host names.

@pytest.mark.parametrize('headers, status, text', [
    ({'Host': 'evil.example', 'Origin': 'http://evil.example'}, 400,
     "does not answer to the host 'evil.example'"),
    ({'Origin': 'http://evil.example'}, 403,
     "requests from 'http://evil.example' are refused"),
    ({'Origin': 'http://127.0.0.1:3000'}, 403, 'are refused'),
    ({'Origin': 'null'}, 403, "requests from 'null' are refused"),
    ({'Sec-Fetch-Site': 'cross-site'}, 403, 'other sites are refused'),
])
def test_requests_from_other_sites_are_refused(client, workdir, headers,
                                               status, text):
  wanted = dict(LONG_RENDER, sources=['nsynth_e5', 'nsynth_b4'])
  for response in (
      client.post('/api/renders', content=json.dumps(wanted),
                  headers={'Content-Type': 'text/plain', **headers}),
      post_json(client, wanted, **headers),
      upload(client, wav_bytes(tone(4000)), headers=headers),
      client.delete('/api/renders/' + '0' * 32, headers=headers)):
    assert_detail(response, status, text)
  assert files_under(workdir / 'uploads') == []
  assert client.app.state.studio.renders._jobs == {}


def test_a_rebound_host_name_cannot_read_the_studio(client):
  assert_detail(client.get('/api/sources', headers={'Host': 'evil.example'}),
                400, 'does not answer to the host')
  assert client.get('/api/sources').status_code == 200


def test_the_page_own_requests_are_served(client):
  own = {'Origin': BASE_URL, 'Sec-Fetch-Site': 'same-origin'}
  assert upload(client, wav_bytes(tone(4000)), headers=own).status_code == 201
  wanted = dict(LONG_RENDER, sources=['nsynth_e5', 'nsynth_b4'],
                note_seconds=0)
  assert_detail(post_json(client, wanted, **own), 400, 'note length')
  for host in ('localhost:8765', '[::1]:8765'):
    assert client.get('/api/sources', headers={'Host': host}).status_code == (
        200)


def test_settings_not_sent_as_json_are_415(client):
  wanted = dict(LONG_RENDER, sources=['nsynth_e5', 'nsynth_b4'])
  response = client.post('/api/renders', content=json.dumps(wanted),
                         headers={'Content-Type': 'text/plain'})
  assert_detail(response, 415, 'Content-Type: application/json')


def test_other_names_are_answered_when_allowed(workdir, model):
  client = TestClient(app_lib.create_app(
      str(workdir), lambda: model, 'tiny_pitch',
      hosts=app_lib.LOOPBACK_NAMES + ('studio.local',)),
                      base_url='http://studio.local:8765')
  assert client.get('/api/sources').status_code == 200
  assert upload(client, wav_bytes(tone(4000)), headers={
      'Origin': 'http://studio.local:8765'}).status_code == 201


# 11. Links and folders in the work folder.

def test_links_in_the_work_folder_are_skipped(client, workdir):
  added = upload(client, wav_bytes(tone(4000))).json()
  uploads = workdir / 'uploads'
  os.symlink(workdir.parent / 'secret.wav', uploads / f'{"a" * 32}.wav')
  os.mkdir(uploads / f'{"b" * 32}.wav')
  listing = client.get('/api/sources')
  assert listing.status_code == 200
  assert [source['id'] for source in listing.json()][3:] == [added['id']]
  for bad in ('a' * 32, 'b' * 32):
    assert client.get(f'/api/sources/{bad}/plot.png').status_code == 404
  wanted = dict(LONG_RENDER, sources=two_sources(client), points=2,
                pitches=[60], note_seconds=0.05)
  job = wait_for(client, post_json(client, wanted).json()['id'], ended)
  note = workdir / 'packs' / job['pack'] / 'samples' / 'p0_0_m060.wav'
  os.remove(note)
  os.symlink(workdir.parent / 'secret.wav', note)
  assert client.get(f'/api/packs/{job["pack"]}/samples/p0_0_m060.wav'
                    ).status_code == 404
  archive = client.get(f'/api/packs/{job["pack"]}.zip')
  assert archive.status_code == 200 and SECRET not in archive.content
  with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
    names = opened.namelist()
  assert f'{job["pack"]}/samples/p0_1_m060.wav' in names
  assert f'{job["pack"]}/samples/p0_0_m060.wav' not in names


# 12. What an HTML form sends.

def test_a_form_upload_is_accepted(client):
  response = client.post('/api/uploads', files={
      'file': ('from a form.wav', wav_bytes(tone(4000)), 'audio/wav')})
  assert response.status_code == 201, response.text
  assert response.json()['name'] == 'from a form.wav'
  response = client.post('/api/uploads', data={'name': 'no file'},
                         files={'other': ('', b'', 'text/plain')})
  assert response.status_code == 400


# 9. A server killed mid-render, started again.

def free_port():
  with socket.socket() as probe:
    probe.bind(('127.0.0.1', 0))
    return probe.getsockname()[1]


class Server:
  """`python -m magenta_wavenet.studio` in a process of its own."""

  def __init__(self, checkpoint, workdir, port):
    self.url = f'http://127.0.0.1:{port}'
    self.process = subprocess.Popen(
        [sys.executable, '-m', 'magenta_wavenet.studio', f'--port={port}',
         f'--checkpoint_path={checkpoint}', f'--workdir={workdir}',
         '--default_pack=false', '--log=WARNING'],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + TIMEOUT
    while True:
      assert self.process.poll() is None, self.process.stderr.read()
      try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
          break
      except OSError:
        assert time.monotonic() < deadline, 'the studio did not start'
        time.sleep(0.2)

  def request(self, method, path, body=None):
    """(status, JSON) of a request to the server."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        self.url + path, data=data, method=method,
        headers={'Content-Type': 'application/json'})
    try:
      with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)
    except urllib.error.HTTPError as error:
      return error.code, json.load(error)

  def wait(self, job_id, done, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
      status, job = self.request('GET', f'/api/renders/{job_id}')
      assert status == 200, job
      if done(job):
        return job
      assert time.monotonic() < deadline, job
      time.sleep(0.05)

  def kill(self):
    self.process.send_signal(signal.SIGKILL)
    self.process.wait(timeout=30)
    self.process.stderr.close()


def test_renders_survive_a_kill_and_resume_where_they_stopped(
    model, tmp_path):
  checkpoint = tmp_path / 'model'
  mw.save_model(model, checkpoint)
  workdir = tmp_path / 'studio'
  sources = []
  for frequency in (220.0, 330.0):
    path = tmp_path / f'{frequency:g}.wav'
    soundfile.write(path, tone(4800, frequency=frequency), RATE)
    sources.append(path)
  server = Server(checkpoint, workdir, free_port())
  try:
    ids = []
    for path in sources:
      with open(path, 'rb') as stream:
        request = urllib.request.Request(
            f'{server.url}/api/uploads?name={path.name}', data=stream.read(),
            method='POST')
        with urllib.request.urlopen(request, timeout=60) as response:
          ids.append(json.load(response)['id'])
    wanted = dict(LONG_RENDER, sources=ids)
    _, running = server.request('POST', '/api/renders', wanted)
    _, queued = server.request('POST', '/api/renders', dict(
        wanted, points=2, pitches=[60], note_seconds=0.05))
    assert queued['state'] == 'queued'
    # Past 32 of 72 notes only once the second batch is written (progress
    # reaches 32 / 72 when its samples are, before its files).
    server.wait(running['id'], lambda job: job['progress'] > 32 / 72)
  finally:
    server.kill()
  samples = workdir / 'packs' / running['pack'] / 'samples'
  before = {name: (samples / name).read_bytes()
            for name in os.listdir(samples) if not name.startswith('.')}
  assert 32 <= len(before) < 72
  for name in before:  # every note written before the kill is whole
    assert soundfile.info(samples / name).frames == 8000

  server = Server(checkpoint, workdir, free_port())
  try:
    status, job = server.request('GET', f'/api/renders/{running["id"]}')
    assert status == 200 and job['state'] in renders.ACTIVE
    assert job['progress'] >= len(before) // 16 * 16 / 72
    status, job = server.request('GET', f'/api/renders/{queued["id"]}')
    assert status == 200 and job['state'] in renders.ACTIVE
    assert server.wait(running['id'], ended)['state'] == 'done'
    assert server.wait(queued['id'], ended)['state'] == 'done'
  finally:
    server.kill()
  for name, data in before.items():
    assert (samples / name).read_bytes() == data
  assert len(os.listdir(samples)) == 72
