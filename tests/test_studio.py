"""The studio's web API (`magenta_wavenet.webapp`), through FastAPI's client.

Renders use a tiny random pitch-conditioned model: 2 uploaded 0.3 s tones
(pYIN takes seconds on a bundled 2.5 s note), 2 points, 2 pitches, 0.05 s
notes (4 notes in one batch, so one compiled shape).
"""

import io
import json
import os
import re
import time
import zipfile

from conftest import tiny_pitch_model
from conftest import tone
from fastapi.testclient import TestClient
import numpy as np
import pytest
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import sample_pack
from magenta_wavenet.cli import studio as studio_command
from magenta_wavenet.webapp import app as app_lib
from magenta_wavenet.webapp.packs import pack_id

RATE = 16000
BASE_URL = 'http://127.0.0.1:8765'
MAX_UPLOAD = 100_000
SETTINGS = {'points': 2, 'pitches': [60, 64], 'note_seconds': 0.05,
            'seed': 3}
NOTES = ['p0_0_m060.wav', 'p0_0_m064.wav', 'p0_1_m060.wav', 'p0_1_m064.wav']
SECRET = b'secret outside the studio'


@pytest.fixture(scope='module')
def model():
  return tiny_pitch_model()


def make_client(workdir, model, **kwargs):
  return TestClient(app_lib.create_app(
      str(workdir), lambda: model, 'tiny_pitch',
      max_upload_bytes=MAX_UPLOAD, **kwargs), base_url=BASE_URL)


@pytest.fixture
def workdir(tmp_path):
  """The studio's folder, beside files a path from a request must not reach.
  """
  for name in ('secret.wav', 'secret.txt', 'manifest.json'):
    (tmp_path / name).write_bytes(SECRET)
  return tmp_path / 'studio'


@pytest.fixture
def client(workdir, model):
  return make_client(workdir, model)


def wav_bytes(audio, subtype='PCM_16', rate=RATE):
  buffer = io.BytesIO()
  soundfile.write(buffer, audio, rate, format='WAV', subtype=subtype)
  return buffer.getvalue()


def upload(client, data, name='note.wav'):
  return client.post('/api/uploads', params={'name': name}, content=data)


def settings(client, **change):
  """SETTINGS with 2 new uploads as sources, then `change`."""
  sources = [upload(client, wav_bytes(tone(4800, frequency=frequency)),
                    name=name).json()['id']
             for name, frequency in (('a.wav', 220.0), ('b.wav', 330.0))]
  return dict(SETTINGS, sources=sources, **change)


def finish(client, job, timeout=120):
  """Polls a render until it ends; returns the last job and the progress
  values seen."""
  seen = [job['progress']]
  deadline = time.monotonic() + timeout
  while job['state'] in ('queued', 'running'):
    assert time.monotonic() < deadline, job
    time.sleep(0.05)
    job = client.get(f'/api/renders/{job["id"]}').json()
    seen.append(job['progress'])
  return job, seen


def files_under(folder):
  return sorted(os.path.relpath(os.path.join(root, name), folder)
                for root, _, names in os.walk(folder) for name in names)


def test_the_page_and_its_scripts_are_served(client):
  page = client.get('/')
  assert page.status_code == 200
  for asset in ('/static/studio.js', '/static/studio.css'):
    assert asset in page.text
    assert client.get(asset).status_code == 200
  assert [source['id'] for source in client.get('/api/sources').json()] == [
      'nsynth_a1', 'nsynth_b4', 'nsynth_e5']


def test_a_good_upload_is_stored_as_16k_wav(client, workdir):
  stereo_44k = np.stack([tone(22050, 44100), tone(22050, 44100, 330.0)], 1)
  response = upload(client, wav_bytes(stereo_44k, rate=44100),
                    name='C:\\music\\my.wav')
  assert response.status_code == 201, response.text
  added = response.json()
  assert re.fullmatch('[0-9a-f]{32}', added['id'])
  assert added == {'id': added['id'], 'name': 'my.wav', 'kind': 'upload'}
  assert client.get('/api/sources').json()[-1] == added
  audio, rate = soundfile.read(workdir / 'uploads' / f'{added["id"]}.wav')
  assert rate == RATE and audio.shape == (8000,)


@pytest.mark.parametrize('data, status, message', [
    (b'RIFF, not really: a text file named .wav\n', 400,
     r'^bad\.wav: not a readable audio file'),
    (b'', 400, r'^bad\.wav: the file is empty\.$'),
    (wav_bytes(tone(800)), 400,
     r'^bad\.wav: too short: 800 samples at 16000 Hz, at least 1600'),
    (wav_bytes(np.full(4000, np.nan, np.float32), 'FLOAT'), 400,
     r'^bad\.wav: contains NaN or infinite samples\.$'),
    (wav_bytes(tone(MAX_UPLOAD)), 413,
     r'^bad\.wav: too large: more than 0\.0953674 MB\.$'),
])
def test_a_bad_upload_is_refused_and_nothing_written(client, workdir, data,
                                                     status, message):
  response = upload(client, data, name='../../bad.wav')
  assert response.status_code == status
  assert re.search(message, response.json()['detail']), response.json()
  assert files_under(workdir / 'uploads') == []
  assert len(client.get('/api/sources').json()) == 3


def test_a_source_plot_is_a_png(client):
  response = client.get('/api/sources/nsynth_e5/plot.png')
  assert response.status_code == 200
  assert response.headers['content-type'] == 'image/png'
  assert response.content.startswith(b'\x89PNG\r\n\x1a\n')


def test_a_render_reaches_100_percent_and_downloads_as_zip(client, workdir):
  wanted = settings(client)
  job = client.post('/api/renders', json=wanted)
  assert job.status_code == 202, job.text
  job, seen = finish(client, job.json())
  assert job['state'] == 'done' and job['message'] == ''
  assert seen == sorted(seen) and seen[-1] == 1.0
  pack = job['pack']
  listed, = client.get('/api/packs').json()
  assert listed == client.get(f'/api/packs/{pack}').json()
  assert listed == {
      'id': pack, 'complete': True, 'sources': ['a.wav', 'b.wav'],
      'rows': 1, 'cols': 2, 'pitches': [60, 64], 'note_seconds': 0.05,
      'sample_rate': RATE, 'harmonic_filter_db': 0.0,
      'retry_off_pitch': False, 'expected_value': False, 'samples': NOTES}
  note = client.get(f'/api/packs/{pack}/samples/p0_1_m064.wav')
  assert note.status_code == 200
  audio, rate = soundfile.read(io.BytesIO(note.content))
  assert rate == RATE and audio.shape == (800,)
  download = client.get(f'/api/packs/{pack}.zip')
  assert download.status_code == 200
  assert download.headers['content-type'] == 'application/zip'
  with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
    names = archive.namelist()
    manifest = json.loads(archive.read(f'{pack}/manifest.json'))
    assert archive.read(f'{pack}/samples/p0_1_m064.wav') == note.content
  assert sorted(names) == sorted(
      [f'{pack}/{name}' for name in ('manifest.json', 'p0_0.sfz', 'p0_1.sfz',
                                     'studio.json')]
      + [f'{pack}/samples/{name}' for name in NOTES])
  assert manifest['complete'] and manifest['seed'] == 3
  # The same settings again: the pack is there, nothing is rendered.
  note_path = workdir / 'packs' / pack / 'samples' / NOTES[0]
  before = os.path.getmtime(note_path)
  again, _ = finish(client, client.post('/api/renders', json=wanted).json())
  assert again['state'] == 'done' and again['pack'] == pack
  assert again['id'] != job['id']
  assert os.path.getmtime(note_path) == before


def test_two_renders_at_once_are_queued_not_interleaved(client):
  wanted = settings(client)
  first = client.post('/api/renders', json=wanted).json()
  second = client.post('/api/renders', json=dict(wanted, seed=4)).json()
  assert second['state'] == 'queued'
  same = client.post('/api/renders', json=dict(wanted, seed=4)).json()
  assert same['id'] == second['id']
  first, _ = finish(client, first)
  second, _ = finish(client, second)
  assert first['state'] == second['state'] == 'done'
  assert first['pack'] != second['pack']
  assert second['started_at'] >= first['finished_at']
  assert len(client.get('/api/packs').json()) == 2


def default_job(client):
  """The job a new app with a default pack has queued (the newest of the
  work folder's), finished."""
  job = max(client.app.state.studio.renders._jobs.values(),
            key=lambda job: job.queued_at)
  return finish(client, job.to_dict())[0]


def test_the_default_pack_is_rendered_once(workdir, model):
  wanted = settings(make_client(workdir, model))
  job = default_job(make_client(workdir, model, default_pack=wanted))
  assert job['state'] == 'done'
  folder = workdir / 'packs' / job['pack']
  before = {name: os.path.getmtime(folder / name)
            for name in files_under(folder)}
  assert len(before) == 4 + 2 + 2  # notes, SFZ files, manifest, names
  job = default_job(make_client(workdir, model, default_pack=wanted))
  assert job['state'] == 'done'
  assert {name: os.path.getmtime(folder / name)
          for name in files_under(folder)} == before


@pytest.mark.parametrize('change, status, message', [
    ({'sources': ['nsynth_e5', 'nsynth_b4', 'nsynth_a1']}, 400,
     r'need 2 source sounds \(a line\) or 4 \(a grid\), got 3'),
    ({'sources': ['nsynth_e5', 'nsynth_e5']}, 400, 'not one twice'),
    ({'sources': ['nsynth_e5', '../secret']}, 404, '^no such sound'),
    ({'sources': ['nsynth_e5', '0' * 32]}, 404, '^no such sound'),
    ({'sources': 'nsynth_e5'}, 400, 'sources must be a list'),
    ({'points': 1}, 400, 'points must be 2 to 9'),
    ({'points': 'three'}, 400, 'points must be a whole number'),
    ({'pitches': [60, 128]}, 400, "pitch '128' is not a MIDI note"),
    ({'pitches': []}, 400, 'at least one MIDI pitch'),
    ({'note_seconds': 0}, 400, r'at least one hop of the model \(0\.004 s\)'),
    ({'note_seconds': 60}, 400, 'at most 4 s'),
    ({'seed': -1}, 400, 'seed must be 0 or more'),
])
def test_bad_render_settings_get_a_message(client, change, status, message):
  wanted = dict(SETTINGS, sources=['nsynth_e5', 'nsynth_b4'])
  response = client.post('/api/renders', json=dict(wanted, **change))
  assert response.status_code == status
  assert re.search(message, response.json()['detail']), response.json()


def test_too_many_notes_and_non_json_are_refused(client):
  four = settings(client)['sources'] + ['nsynth_e5', 'nsynth_b4']
  response = client.post('/api/renders', json=dict(
      SETTINGS, sources=four, points=9, pitches=list(range(20, 45))))
  assert response.status_code == 400
  assert response.json()['detail'] == (
      '2025 notes is too many for one pack; at most 400.')
  response = client.post('/api/renders', content=b'{not json',
                         headers={'Content-Type': 'application/json'})
  assert response.status_code == 400
  assert response.json()['detail'] == 'send the render settings as JSON.'


# What a request may try in place of an id or a file name. A literal `../`
# in a URL is resolved by the client (httpx, browsers) before it is sent;
# encoded, it reaches the server.
IN_URLS = ['..%2Fsecret.wav', '..%2F..%2Fsecret.txt', '%2E%2E%2Fsecret.wav',
           '....%2F%2Fsecret.wav', '%2Fetc%2Fpasswd',
           'nsynth_e5%2F..%2F..%2Fsecret.wav', '0' * 31 + 'g', 'A' * 32]
IN_BODIES = ['..', '../secret', '../../secret.wav', '/etc/passwd',
             'nsynth_e5/../../secret', 'uploads/../../secret.wav']


def test_no_path_from_a_request_leaves_its_folder(client, workdir):
  job, _ = finish(client, client.post('/api/renders',
                                      json=settings(client)).json())
  pack = job['pack']
  for bad in IN_URLS:
    for route in (f'/api/sources/{bad}/plot.png', f'/api/renders/{bad}',
                  f'/api/packs/{bad}', f'/api/packs/{bad}.zip',
                  f'/api/packs/{bad}/samples/p0_0_m060.wav',
                  f'/api/packs/{pack}/samples/{bad}',
                  f'/api/packs/{pack}/samples/..%2F{pack}%2Fmanifest.json',
                  f'/static/{bad}', '/static/..%2Fapp.py'):
      response = client.get(route)
      assert response.status_code == 404, (route, response.text)
      assert SECRET not in response.content
      assert b'import' not in response.content
  uploads = set(files_under(workdir / 'uploads'))
  for bad in IN_BODIES:
    response = client.post('/api/renders', json=dict(
        SETTINGS, sources=['nsynth_e5', bad]))
    assert response.status_code == 404, response.text
    response = upload(client, wav_bytes(tone(4000)), name=bad)
    assert response.status_code == 201
    added = response.json()
    assert added['name'] in ('secret', 'secret.wav', 'passwd', 'upload')
    uploads |= {added['id'] + '.json', added['id'] + '.wav'}
  assert set(files_under(workdir / 'uploads')) == uploads
  assert (workdir.parent / 'secret.wav').read_bytes() == SECRET


@pytest.mark.parametrize('flag, message', [
    ('--workdir={tmp}/secret.txt', r'^error: \S+/secret\.txt: exists and is '
     r'not a folder\.$'),
    ('--checkpoint_path={tmp}/missing', r'^error: .*missing'),
])
def test_the_command_refuses_a_bad_folder_or_model(workdir, capsys, flag,
                                                   message):
  argv = ['studio', '--log=ERROR', f'--workdir={workdir}',
          flag.format(tmp=workdir.parent)]
  assert studio_command.main(argv) == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and re.search(message, err[0]), err


def test_the_harmonic_filter_is_a_render_setting_with_the_studios_default(
    workdir, model, monkeypatch):
  filtered = []

  def spy(audio, attenuation_db, sample_rate):
    filtered.append(attenuation_db)
    return audio
  monkeypatch.setattr(sample_pack, 'harmonic_filter', spy)
  plain = make_client(workdir, model)
  assert plain.get('/api/defaults').json()['harmonic_filter_db'] == 0.0
  wanted = settings(plain)
  clean = make_client(workdir, model, harmonic_filter_db=18.0)
  assert clean.get('/api/defaults').json()['harmonic_filter_db'] == 18.0
  packs = []
  # Without the setting each studio takes its own default; a request's
  # setting overrides it.
  for client, change in ((plain, {}), (clean, {}),
                         (plain, {'harmonic_filter_db': 12})):
    job, _ = finish(client, client.post(
        '/api/renders', json=dict(wanted, **change)).json())
    assert job['state'] == 'done', job
    packs.append(job['pack'])
  assert filtered == [0.0] * 4 + [18.0] * 4 + [12.0] * 4
  # One pack each: only the ids of filtered ones name the filter. A
  # pitch-conditioned model's ids name its shifted sources, which a model
  # without pitch always had.
  assert packs[0] == pack_id(wanted, 'tiny_pitch', shifted_sources=True)
  assert packs[1] == pack_id(dict(wanted, harmonic_filter_db=18.0),
                             'tiny_pitch', shifted_sources=True)
  assert packs[2] == pack_id(dict(wanted, harmonic_filter_db=12.0),
                             'tiny_pitch', shifted_sources=True)
  assert len(set(packs)) == 3 and pack_id(wanted, 'tiny_pitch') not in packs
  manifests = [json.loads((workdir / 'packs' / pack / 'manifest.json')
                          .read_text()) for pack in packs]
  assert 'harmonic_filter_db' not in manifests[0]
  assert [m['harmonic_filter_db'] for m in manifests[1:]] == [18.0, 12.0]
  listed = {pack['id']: pack['harmonic_filter_db']
            for pack in plain.get('/api/packs').json()}
  assert listed == dict(zip(packs, [0.0, 18.0, 12.0]))
  # Asked of a studio that filters, 0 renders the notes as generated.
  job, _ = finish(clean, clean.post(
      '/api/renders', json=dict(wanted, harmonic_filter_db=0)).json())
  assert job['pack'] == packs[0] and filtered[12:] == []
  for bad in (-1, 61, '20', True, None):
    response = plain.post('/api/renders',
                          json=dict(wanted, harmonic_filter_db=bad))
    assert response.status_code == 400
    assert response.json()['detail'] == (
        'the harmonic filter takes 0 to 60 dB.')
  with pytest.raises(mw.MagentaWavenetError, match='takes 0 to 60 dB, got '
                     '70'):
    make_client(workdir, model, harmonic_filter_db=70.0)


def test_the_retry_off_pitch_is_a_render_setting_with_the_studios_default(
    workdir, model, monkeypatch):
  asked = []
  render_pack = sample_pack.render_pack

  def spy(*args, **kwargs):
    asked.append(kwargs['retry_off_pitch'])
    return render_pack(*args, **kwargs)
  monkeypatch.setattr(sample_pack, 'render_pack', spy)
  plain = make_client(workdir, model)
  assert plain.get('/api/defaults').json() == {
      'harmonic_filter_db': 0.0, 'retry_off_pitch': False,
      'expected_value': False}
  wanted = settings(plain)
  retrying = make_client(workdir, model, retry_off_pitch=True)
  assert retrying.get('/api/defaults').json() == {
      'harmonic_filter_db': 0.0, 'retry_off_pitch': True,
      'expected_value': False}
  packs = []
  # Without the setting each studio takes its own default; a request's
  # setting overrides it, either way.
  for client, change in ((plain, {}), (retrying, {}),
                         (plain, {'retry_off_pitch': True, 'seed': 4}),
                         (retrying, {'retry_off_pitch': False})):
    job, _ = finish(client, client.post(
        '/api/renders', json=dict(wanted, **change)).json())
    assert job['state'] == 'done', job
    packs.append(job['pack'])
  # The last is the first pack, already complete: nothing is rendered.
  assert asked == [False, True, True] and packs[3] == packs[0]
  # Only the ids of retried packs name the retry: an unretried pack keeps
  # the id it had before the setting.
  assert packs[0] == pack_id(wanted, 'tiny_pitch', shifted_sources=True)
  assert packs[1] == pack_id(dict(wanted, retry_off_pitch=True),
                             'tiny_pitch', shifted_sources=True)
  assert packs[2] == pack_id(dict(wanted, retry_off_pitch=True, seed=4),
                             'tiny_pitch', shifted_sources=True)
  assert len(set(packs)) == 3
  manifests = [json.loads((workdir / 'packs' / pack / 'manifest.json')
                          .read_text()) for pack in packs[:3]]
  assert 'retry_off_pitch' not in manifests[0]
  assert [m['retry_off_pitch'] for m in manifests[1:]] == [True, True]
  listed = {pack['id']: pack['retry_off_pitch']
            for pack in plain.get('/api/packs').json()}
  assert listed == dict(zip(packs, [False, True, True]))
  with pytest.raises(mw.MagentaWavenetError, match='retry_off_pitch must be '
                     "true or false, got 'yes'"):
    make_client(workdir, model, retry_off_pitch='yes')


def test_expected_values_are_a_render_setting_with_the_studios_default(
    workdir, model, monkeypatch):
  asked = []
  render_pack = sample_pack.render_pack

  def spy(*args, **kwargs):
    asked.append(kwargs['expected_value'])
    return render_pack(*args, **kwargs)
  monkeypatch.setattr(sample_pack, 'render_pack', spy)
  plain = make_client(workdir, model)
  wanted = settings(plain)
  means = make_client(workdir, model, expected_value=True)
  assert means.get('/api/defaults').json()['expected_value'] is True
  packs = []
  for client, change in ((plain, {}), (means, {}),
                         (means, {'expected_value': False})):
    job, _ = finish(client, client.post(
        '/api/renders', json=dict(wanted, **change)).json())
    assert job['state'] == 'done', job
    packs.append(job['pack'])
  # The last is the first pack, already complete: nothing is rendered.
  assert asked == [False, True] and packs[2] == packs[0]
  assert packs[1] == pack_id(dict(wanted, expected_value=True),
                             'tiny_pitch', shifted_sources=True)
  manifest = json.loads((workdir / 'packs' / packs[1] / 'manifest.json')
                        .read_text())
  assert manifest['expected_value'] is True
  listed = {pack['id']: pack['expected_value']
            for pack in plain.get('/api/packs').json()}
  assert listed == {packs[0]: False, packs[1]: True}
  refused = plain.post('/api/renders', json=dict(wanted, expected_value=1))
  assert refused.status_code == 400
  assert refused.json()['detail'] == 'expected_value must be true or false.'
  with pytest.raises(mw.MagentaWavenetError, match='expected_value must be '
                     "true or false, got 'yes'"):
    make_client(workdir, model, expected_value='yes')


@pytest.mark.parametrize('argv, retry', [
    ([], False), (['--retry_off_pitch', '--expected_value'], True)])
def test_the_command_gives_the_studio_its_retry_default(workdir, monkeypatch,
                                                        argv, retry):
  uvicorn = pytest.importorskip('uvicorn')
  made = {}

  def create_app(*args, **kwargs):
    made.update(kwargs)
    return 'the app'
  monkeypatch.setattr(app_lib, 'create_app', create_app)
  monkeypatch.setattr(studio_command.common, 'model_from_flag',
                      lambda checkpoint_path: 'the model')
  monkeypatch.setattr(uvicorn, 'run', lambda app, **kwargs: None)
  assert studio_command.main(['studio', '--log=ERROR', f'--workdir={workdir}',
                              '--default_pack=false'] + argv) == 0
  assert made['retry_off_pitch'] is retry
  assert made['expected_value'] is retry
