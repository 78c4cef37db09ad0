"""The Apache Beam jobs: `instrument` and `save_embeddings` with
--pipeline_options, on Beam's DirectRunner with 2 worker processes, against
the same commands without Beam."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import tone
import numpy as np
import pytest
import soundfile

from magenta_wavenet.beam import files as beam_files
from magenta_wavenet.beam import pipeline
from magenta_wavenet.cli import common
from magenta_wavenet.cli import instrument
from magenta_wavenet.cli import save_embeddings

RATE = 16000
TWO_WORKERS = ('--pipeline_options=--runner=DirectRunner,'
               '--direct_num_workers=2,'
               '--direct_running_mode=multi_processing')


@pytest.fixture(scope='module')
def sources(tmp_path_factory):
  folder = tmp_path_factory.mktemp('sources')
  paths = []
  for index, frequency in enumerate((220.0, 330.0, 440.0, 550.0)):
    path = str(folder / f's{index}.wav')
    soundfile.write(path, tone(3200, frequency=frequency), RATE)
    paths.append(path)
  return paths


def pack_flags(checkpoint, sources, folder, note_length, batch_size):
  return [f'--sources={",".join(sources)}', '--points=2',
          '--pitches=60,64', f'--note_length={note_length}', '--seed=7',
          f'--batch_size={batch_size}', '--weights=float32',
          f'--checkpoint_path={checkpoint}', f'--save_path={folder}']


def run_instrument(*flags):
  return instrument.main(['instrument', '--log=ERROR'] + list(flags))


def folder_bytes(folder):
  """{relative path: bytes} of every file under `folder`, hidden ones too."""
  found = {}
  for root, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(root, name)
      with open(path, 'rb') as stream:
        found[os.path.relpath(path, folder)] = stream.read()
  return found


def same_pack(beam_folder, plain_folder):
  """Asserts two packs hold the same files, byte for byte, but the manifest
  (whose sources name the same files) equal too."""
  beam, plain = folder_bytes(beam_folder), folder_bytes(plain_folder)
  assert sorted(beam) == sorted(plain)
  for name in plain:
    assert beam[name] == plain[name], name


def test_a_pack_rendered_by_two_beam_workers_equals_the_plain_one(
    tmp_path, tiny_checkpoint, sources, monkeypatch):
  monkeypatch.setenv('MAGENTA_WAVENET_HOME', str(tmp_path / 'home'))
  checkpoint, _ = tiny_checkpoint
  # Retried too: the notes off their pitch are generated again in the
  # worker from the moved codes the launcher sent with their batch.
  assert run_instrument(*pack_flags(checkpoint, sources, tmp_path / 'plain',
                                    '0.05s', 3), '--retry_off_pitch') == 0
  assert run_instrument(*pack_flags(checkpoint, sources, tmp_path / 'beam',
                                    '0.05s', 3), TWO_WORKERS,
                        '--retry_off_pitch') == 0
  assert len(os.listdir(tmp_path / 'plain' / 'samples')) == 8
  same_pack(tmp_path / 'beam', tmp_path / 'plain')
  manifest = json.loads((tmp_path / 'beam' / 'manifest.json').read_text())
  assert manifest['retry_off_pitch'] is True and manifest['complete']


def test_a_killed_beam_pack_completes_when_run_again(
    tmp_path, tiny_checkpoint, sources, monkeypatch):
  monkeypatch.setenv('MAGENTA_WAVENET_HOME', str(tmp_path / 'home'))
  checkpoint, _ = tiny_checkpoint
  flags = pack_flags(checkpoint, sources, tmp_path / 'beam', '1s', 1)
  samples = tmp_path / 'beam' / 'samples'
  process = subprocess.Popen(
      [sys.executable, '-m', 'magenta_wavenet', 'instrument', '--log=ERROR',
       *flags, TWO_WORKERS], start_new_session=True,
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None and not (
        samples.is_dir() and any(name.endswith('.wav') and not
                                 name.startswith('.')
                                 for name in os.listdir(samples))):
      time.sleep(0.02)
  finally:
    os.killpg(process.pid, signal.SIGKILL)  # the launcher and its workers
    process.wait()
  written = [name for name in os.listdir(samples) if not name.startswith('.')]
  assert 1 <= len(written) < 8  # killed in the middle
  assert run_instrument(*pack_flags(checkpoint, sources, tmp_path / 'plain',
                                    '1s', 1)) == 0
  assert run_instrument(*flags, TWO_WORKERS) == 0
  same_pack(tmp_path / 'beam', tmp_path / 'plain')


def test_beam_encodes_as_the_plain_command_and_names_a_bad_file(
    tmp_path, tiny_checkpoint, sources, capsys):
  checkpoint, _ = tiny_checkpoint
  inputs = tmp_path / 'in'
  inputs.mkdir()
  for index, path in enumerate(sources):
    # Three lengths, so that batches hold files of different lengths.
    soundfile.write(str(inputs / f'n{index}.wav'),
                    soundfile.read(path)[0][:1000 + 700 * (index % 3)], RATE)
  (inputs / 'broken.wav').write_bytes(b'not audio')

  def encode(folder, *extra):
    return save_embeddings.main([
        'save_embeddings', '--log=ERROR', f'--source_path={inputs}',
        f'--save_path={folder}', f'--checkpoint_path={checkpoint}',
        '--batch_size=2', *extra])

  assert encode(tmp_path / 'plain') == 1
  capsys.readouterr()
  assert encode(tmp_path / 'beam', TWO_WORKERS) == 1
  err = capsys.readouterr().err
  assert f'error: {inputs}/broken.wav: not a readable audio file' in err
  assert '1 of 5 inputs failed; 4 encoded.' in err
  failures = (tmp_path / 'beam' / 'failures.txt').read_text().splitlines()
  assert len(failures) == 1 and failures[0].startswith(
      f'{inputs}/broken.wav: not a readable audio file')
  names = sorted(os.listdir(tmp_path / 'plain'))
  assert names == [f'n{index}_embeddings.npy' for index in range(4)]
  assert sorted(os.listdir(tmp_path / 'beam')) == ['failures.txt'] + names
  for name in names:
    np.testing.assert_array_equal(np.load(tmp_path / 'beam' / name),
                                  np.load(tmp_path / 'plain' / name))


def test_files_are_written_whole_and_listed(tmp_path):
  files = beam_files.BEAM_FILES
  path = str(tmp_path / 'a' / 'b.bin')
  files.makedirs(str(tmp_path / 'a'))
  files.write_bytes(path, b'first')
  files.write_bytes(path, b'second')
  assert files.read_bytes(path) == b'second'
  assert os.listdir(tmp_path / 'a') == ['b.bin']
  (tmp_path / 'a' / f'{beam_files.PARTIAL_PREFIX}x-c.wav').write_bytes(b'')
  pipeline.remove_leftovers(str(tmp_path / 'a'))
  assert os.listdir(tmp_path / 'a') == ['b.bin']
  with files.local_copy(path) as local:
    assert local == path
  assert files.list_inputs(str(tmp_path / 'a' / '*.bin'), ('.bin',)) == [
      path]


def test_options_follow_magentas_convention():
  options = pipeline.options(
      '--runner=DirectRunner, --direct_num_workers=3,').get_all_options()
  assert options['runner'] == 'DirectRunner'
  assert options['direct_num_workers'] == 3


def test_without_beam_the_flag_says_how_to_install_it(monkeypatch):
  real_import = common.importlib.import_module

  def no_beam(name):
    if name.startswith('magenta_wavenet.beam'):
      error = ImportError("No module named 'apache_beam'")
      error.name = 'apache_beam'
      raise error
    return real_import(name)
  monkeypatch.setattr(common.importlib, 'import_module', no_beam)
  with pytest.raises(common.MagentaWavenetError,
                     match=r"pip install 'magenta_wavenet\[beam\]'"):
    common.beam_job('pack')
