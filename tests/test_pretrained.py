"""Named models: the published checkpoint fetched into a cache, served here.

A local HTTP server on 127.0.0.1 stands in for Magenta's download host. It
serves a tar in the published layout (`wavenet-ckpt/model.ckpt-200000.*`)
holding a small 'tiny' checkpoint, honours Range requests, and can cut a
transfer in the middle.
"""

import http.server
import io
import os
import tarfile
import threading

from conftest import randomize
import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet.model import pretrained

TAR_PATH = '/models/nsynth/wavenet-ckpt.tar'


def checkpoint_tar(folder, seed=5):
  """Bytes of a tar in the published layout and the model it holds."""
  model = randomize(mw.NSynthAutoencoder('tiny'), seed=seed)
  saved = folder / 'saved'
  mw.save_model(model, saved)
  buffer = io.BytesIO()
  with tarfile.open(fileobj=buffer, mode='w') as archive:
    for name in sorted(os.listdir(saved)):
      if name.startswith('model.ckpt.'):
        member = 'wavenet-ckpt/model.ckpt-200000.' + name[len('model.ckpt.'):]
        archive.add(saved / name, arcname=member)
  return buffer.getvalue(), model


class FileServer:
  """Serves `files` ({url path: bytes}) on 127.0.0.1, with Range support.

  `cut_next` bytes: the next response stops after that many bytes of body
  and closes the connection. `requests` records (path, Range header).
  """

  def __init__(self, files):
    self.files = files
    self.cut_next = None
    self.requests = []
    server = self

    class Handler(http.server.BaseHTTPRequestHandler):

      def do_GET(self):  # pylint: disable=invalid-name
        server.requests.append((self.path, self.headers.get('Range')))
        if self.path not in server.files:
          self.send_error(404)
          return
        body = server.files[self.path]
        start = 0
        if self.headers.get('Range'):
          start = int(self.headers['Range'].split('=')[1].split('-')[0])
          self.send_response(206)
          self.send_header('Content-Range',
                           f'bytes {start}-{len(body) - 1}/{len(body)}')
        else:
          self.send_response(200)
        self.send_header('Content-Length', str(len(body) - start))
        self.end_headers()
        rest = body[start:]
        if server.cut_next is not None:
          rest, server.cut_next = rest[:server.cut_next], None
          self.wfile.write(rest)
          self.wfile.flush()
          self.close_connection = True
          return
        self.wfile.write(rest)

      def log_message(self, *args):
        del args

    self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
    self.thread = threading.Thread(target=self.httpd.serve_forever,
                                   daemon=True)
    self.thread.start()

  def stop(self):
    self.httpd.shutdown()
    self.httpd.server_close()


@pytest.fixture
def published(tmp_path, monkeypatch):
  """A mirror serving a tiny checkpoint as 'h512_bo16', an empty cache."""
  body, model = checkpoint_tar(tmp_path)
  server = FileServer({TAR_PATH: body})
  monkeypatch.setenv(pretrained.MIRROR_VARIABLE, server.url)
  monkeypatch.setenv(pretrained.HOME_VARIABLE, str(tmp_path / 'cache'))
  entry = pretrained.PUBLISHED['h512_bo16']
  monkeypatch.setitem(pretrained.PUBLISHED, 'h512_bo16',
                      pretrained.dataclasses.replace(entry, config='tiny'))
  # Small reads, so a transfer cut in a ~40 kB file keeps what came.
  monkeypatch.setattr(pretrained.ResumingDownloader.__init__,
                      '__defaults__', (3, 100, 30))
  yield server, body, model
  server.stop()


def assert_same_weights(model, reference):
  for got, want in zip(model.weights, reference.weights):
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_published_address_keeps_its_path_on_a_mirror(monkeypatch):
  entry = pretrained.PUBLISHED['h512_bo16']
  monkeypatch.delenv(pretrained.MIRROR_VARIABLE, raising=False)
  assert entry.url() == ('http://download.magenta.tensorflow.org'
                         '/models/nsynth/wavenet-ckpt.tar')
  monkeypatch.setenv(pretrained.MIRROR_VARIABLE, 'http://127.0.0.1:9/')
  assert entry.url() == 'http://127.0.0.1:9/models/nsynth/wavenet-ckpt.tar'


def test_first_download_then_offline_cache_hit(published, tmp_path):
  server, _, model = published
  loaded = mw.load_model('h512_bo16')
  assert loaded.config.name == 'tiny'
  assert_same_weights(loaded, model)
  cache = tmp_path / 'cache'
  assert (cache / 'h512_bo16' / 'wavenet-ckpt' /
          'model.ckpt-200000.index').is_file()
  # Neither the tar nor a partial transfer is left beside the folder.
  assert sorted(os.listdir(cache)) == ['h512_bo16']
  server.stop()
  assert_same_weights(mw.load_model('h512_bo16'), model)
  assert len(server.requests) == 1


def test_cut_transfer_resumes_where_it_stopped(published):
  server, body, model = published
  cut = len(body) // 300 * 100  # A whole number of the fixture's reads.
  server.cut_next = cut
  assert_same_weights(mw.load_model('h512_bo16'), model)
  assert server.requests == [(TAR_PATH, None), (TAR_PATH, f'bytes={cut}-')]


def test_transfer_cut_every_time_is_resumed_by_the_next_call(
    published, tmp_path, monkeypatch):
  server, body, model = published
  monkeypatch.setattr(pretrained.ResumingDownloader.__init__,
                      '__defaults__', (1, 100, 30))
  server.cut_next = 1000
  with pytest.raises(mw.CheckpointError, match='download failed'):
    mw.load_model('h512_bo16')
  part = tmp_path / 'cache' / 'wavenet-ckpt.tar.part'
  assert part.read_bytes() == body[:1000]
  assert_same_weights(mw.load_model('h512_bo16'), model)
  assert server.requests[-1] == (TAR_PATH, 'bytes=1000-')


def test_missing_file_on_the_server_says_where_to_put_the_tar(
    published, tmp_path):
  server, _, _ = published
  del server.files[TAR_PATH]
  with pytest.raises(mw.CheckpointError) as caught:
    mw.load_model('h512_bo16')
  message = str(caught.value)
  assert 'HTTP 404' in message and '\n' not in message
  assert str(tmp_path / 'cache' / 'wavenet-ckpt.tar') in message


def test_offline_with_nothing_cached(published, tmp_path):
  server, _, _ = published
  server.stop()
  with pytest.raises(mw.CheckpointError, match='download it by hand and put '
                     f'it at {tmp_path / "cache" / "wavenet-ckpt.tar"}'):
    mw.load_model('h512_bo16')


def test_tar_put_in_the_cache_by_hand_is_used_offline(published, tmp_path):
  server, body, model = published
  server.stop()
  (tmp_path / 'cache').mkdir()
  (tmp_path / 'cache' / 'wavenet-ckpt.tar').write_bytes(body)
  assert_same_weights(mw.load_model('h512_bo16'), model)


def test_corrupt_tar_is_refused_and_not_cached(published, tmp_path):
  server, body, model = published
  server.files[TAR_PATH] = b'not a tar at all' * 100
  with pytest.raises(mw.CheckpointError, match=(
      'not a readable tar.*next call downloads it')) as caught:
    mw.load_model('h512_bo16')
  assert '\n' not in str(caught.value)
  assert os.listdir(tmp_path / 'cache') == []
  server.files[TAR_PATH] = body
  assert_same_weights(mw.load_model('h512_bo16'), model)


def test_tar_of_the_wrong_model_is_refused(published, tmp_path, monkeypatch):
  entry = pretrained.PUBLISHED['h512_bo16']
  monkeypatch.setitem(pretrained.PUBLISHED, 'h512_bo16',
                      pretrained.dataclasses.replace(entry, config='h64_bo16'))
  with pytest.raises(mw.CheckpointError, match='holds no usable checkpoint'):
    mw.load_model('h512_bo16')
  assert os.listdir(tmp_path / 'cache') == []


def test_tar_path_given_directly(tmp_path, monkeypatch):
  monkeypatch.setenv(pretrained.HOME_VARIABLE, str(tmp_path / 'cache'))
  body, model = checkpoint_tar(tmp_path, seed=9)
  tar = tmp_path / 'my-ckpt.tar'
  tar.write_bytes(body)
  assert_same_weights(mw.load_model(str(tar)), model)
  unpacked = os.listdir(tmp_path / 'cache' / 'unpacked')
  assert len(unpacked) == 1 and unpacked[0].startswith('my-ckpt-')
  assert_same_weights(mw.load_model(tar), model)
  assert len(os.listdir(tmp_path / 'cache' / 'unpacked')) == 1


def test_names_and_the_shipped_models():
  assert set(pretrained.model_names()) == {'h512_bo16', 'h64_bo16',
                                           'h64_bo16_pitch'}
  for name in pretrained.SHIPPED:
    assert mw.load_model(name).config.name == name
  assert_same_weights(mw.load_model(pretrained.DEFAULT_MODEL),
                      mw.default_model())


def test_existing_path_wins_over_a_name(tmp_path, monkeypatch,
                                        tiny_checkpoint):
  folder, model = tiny_checkpoint
  os.symlink(folder, tmp_path / 'h64_bo16')
  monkeypatch.chdir(tmp_path)
  assert_same_weights(mw.load_model('h64_bo16'), model)


def test_commands_take_a_model_name(published, tmp_path):
  from magenta_wavenet.cli import save_embeddings  # pylint: disable=import-outside-toplevel
  del published
  source = tmp_path / 'note.wav'
  mw.save_wav(source, np.sin(np.arange(512) / 5).astype(np.float32) * 0.5)
  status = save_embeddings.main([
      'save_embeddings', '--checkpoint_path=h512_bo16',
      f'--source_path={source}', f'--save_path={tmp_path / "codes"}'])
  assert status == 0
  code = np.load(tmp_path / 'codes' / 'note_embeddings.npy')
  assert code.shape[-1] == mw.get_config('tiny').bottleneck_width
