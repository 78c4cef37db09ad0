"""Sample packs (`sample_pack`) and the `instrument` command line."""

import json
import os
import re

from conftest import tiny_pitch_model
from conftest import tone
import librosa
import numpy as np
import pytest
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import mixing
from magenta_wavenet import pitch_retry
from magenta_wavenet import sample_pack
from magenta_wavenet.cli import instrument
from magenta_wavenet.synthesis import batch_choice
from magenta_wavenet.synthesis import generation

RATE = 16000
# Source tones and the MIDI pitches pYIN finds in them.
FREQUENCIES = (220.0, 330.0, 440.0, 550.0)
SOURCE_PITCHES = [57, 64, 69, 73]
NOTE = '0.05s'  # 800 samples: 13 frames of the tiny model's 64-sample hop.
NOTE_SAMPLES, NOTE_FRAMES = 800, 13


@pytest.fixture(scope='module')
def sources(tmp_path_factory):
  folder = tmp_path_factory.mktemp('sources')
  paths = []
  for index, frequency in enumerate(FREQUENCIES):
    path = str(folder / f's{index}.wav')
    soundfile.write(path, tone(3200, frequency=frequency), RATE)
    paths.append(path)
  return paths


@pytest.fixture(scope='module')
def pitch_model():
  return tiny_pitch_model()


@pytest.fixture
def synthesized(monkeypatch):
  """Records the codes and seed of every `generation.synthesize` call."""
  calls = []
  real = generation.synthesize

  def spy(model, encodings, **kwargs):
    calls.append((np.array(encodings), kwargs['seed']))
    return real(model, encodings, **kwargs)
  monkeypatch.setattr(generation, 'synthesize', spy)
  return calls


def source_clip(path, frames=NOTE_FRAMES, hop=64):
  return mw.load_audio(path)[:frames * hop]


def pack_files(folder):
  return sorted(os.path.relpath(os.path.join(root, name), folder)
                for root, _, names in os.walk(folder) for name in names)


def regions(path):
  """[(sample, lokey, hikey, pitch_keycenter)] of an SFZ file."""
  with open(path, encoding='utf-8') as stream:
    return [(m[1], int(m[2]), int(m[3]), int(m[4])) for m in re.finditer(
        r'<region> sample=(\S+) lokey=(\d+) hikey=(\d+) '
        r'pitch_keycenter=(\d+)', stream.read())]


@pytest.mark.parametrize('pitches', [[60], [48, 60, 72], [0, 127],
                                     [61, 60, 67, 90]])
def test_key_ranges_map_every_key_to_its_nearest_pitch(pitches):
  ranges = sample_pack.key_ranges(pitches)
  assert ranges[0][0] == 0 and ranges[-1][1] == 127
  assert all(low <= high for low, high, _ in ranges)
  assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:]))
  for low, high, centre in ranges:
    for key in range(low, high + 1):
      nearest = min(sorted(pitches), key=lambda p, k=key: abs(p - k))
      assert centre == nearest, (key, ranges)
  assert (sample_pack.key_ranges([72, 48, 60])
          == [(0, 54, 48), (55, 66, 60), (67, 127, 72)])


def test_grid_weights_are_those_of_mixing():
  np.testing.assert_allclose(sample_pack.grid_weights(2, 3),
                             [[[1, 0], [0.5, 0.5], [0, 1]]])
  weights = sample_pack.grid_weights(4, 3)
  assert weights.shape == (3, 3, 4)
  np.testing.assert_allclose(weights[1, 1], [0.25] * 4)
  np.testing.assert_allclose(weights[0, 2], [0, 1, 0, 0])
  np.testing.assert_allclose(weights[2, 0], [0, 0, 1, 0])
  np.testing.assert_allclose(weights[0, 1], [0.5, 0.5, 0, 0])
  codes = list(np.random.default_rng(0).normal(size=(4, 5, 3)))
  cells = mixing.grid(codes, 3)
  for row in range(3):
    for col in range(3):
      np.testing.assert_allclose(
          mixing.weighted_mix(codes, weights[row, col]), cells[row, col],
          atol=1e-6)


def test_codes_are_cut_or_padded_with_their_last_frame():
  codes = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
  np.testing.assert_array_equal(sample_pack.fit_frames(codes, 2),
                                codes[:, :2])
  padded = sample_pack.fit_frames(codes, 5)
  np.testing.assert_array_equal(padded[:, :3], codes)
  np.testing.assert_array_equal(padded[:, 3:],
                                np.repeat(codes[:, 2:], 2, axis=1))


def test_lengths_and_pitches_are_read_or_refused():
  assert sample_pack.note_samples('0.05s', RATE) == 800
  assert sample_pack.note_samples('1s', RATE) == 16000
  assert sample_pack.note_samples('800', RATE) == 800
  assert sample_pack.note_samples(700, RATE) == 700
  for bad in ('abc', '0s', '-5', '1.5', 'nans', ''):
    with pytest.raises(mw.MagentaWavenetError, match='note length'):
      sample_pack.note_samples(bad, RATE)
  assert sample_pack.check_pitches(['72', 48, '60', '60']) == (48, 60, 72)
  for bad in (['128'], [-1], ['C4'], ['60.5']):
    with pytest.raises(mw.MagentaWavenetError, match='not a MIDI note'):
      sample_pack.check_pitches(bad)
  with pytest.raises(mw.MagentaWavenetError, match='at least one'):
    sample_pack.check_pitches([])


def test_a_two_by_two_pack_at_two_pitches(tmp_path, tiny_checkpoint, sources,
                                          synthesized, monkeypatch):
  monkeypatch.setenv('MAGENTA_WAVENET_HOME', str(tmp_path / 'home'))
  _, model = tiny_checkpoint
  folder = str(tmp_path / 'pack')
  manifest = sample_pack.render_pack(model, sources, folder, 2, [64, 60],
                                     NOTE, seed=5, batch_size=3)
  names = [f'samples/p{r}_{c}_m{p:03d}.wav' for r in (0, 1) for c in (0, 1)
           for p in (60, 64)]
  assert pack_files(folder) == sorted(
      names + ['manifest.json', 'p0_0.sfz', 'p0_1.sfz', 'p1_0.sfz',
               'p1_1.sfz'])
  with open(os.path.join(folder, 'manifest.json'), encoding='utf-8') as f:
    assert json.load(f) == manifest
  assert manifest['format_version'] == sample_pack.FORMAT_VERSION
  assert manifest['complete'] is True
  assert [s['pitch'] for s in manifest['sources']] == SOURCE_PITCHES
  assert [s['path'] for s in manifest['sources']] == sources
  assert manifest['pitches'] == [60, 64]
  assert manifest['note_samples'] == NOTE_SAMPLES
  assert manifest['note_seconds'] == 0.05
  assert manifest['seed'] == 5 and manifest['batch_size'] == 3
  # A model without pitch has always shifted its sources: its manifests
  # stay as they were.
  assert 'shifted_sources' not in manifest
  # The fastest format for a model that fits in the caches at batch 3, by
  # rule: the benchmark never ran here.
  assert manifest['model'] == {'name': 'tiny',
                               'config': json.loads(json.dumps(
                                   model.config.to_dict())),
                               'decoder_weights': 'int8'}
  assert manifest['samples'] == names
  points = manifest['grid']['points']
  assert (manifest['grid']['rows'], manifest['grid']['cols']) == (2, 2)
  assert [(p['row'], p['col'], p['weights']) for p in points] == [
      (0, 0, [1, 0, 0, 0]), (0, 1, [0, 1, 0, 0]), (1, 0, [0, 0, 1, 0]),
      (1, 1, [0, 0, 0, 1])]
  assert regions(os.path.join(folder, 'p1_0.sfz')) == [
      ('samples/p1_0_m060.wav', 0, 62, 60),
      ('samples/p1_0_m064.wav', 63, 127, 64)]
  for name in names:
    audio, rate = soundfile.read(os.path.join(folder, name))
    assert rate == RATE and audio.shape == (NOTE_SAMPLES,)
    assert np.abs(audio).max() > 0.01
  # Batches of 3 in the fixed plan, each seeded from its notes.
  notes = sample_pack.plan_notes(2, 2, (60, 64))
  batches = sample_pack.plan_batches(notes, 3)
  assert [len(b) for b in batches] == [3, 3, 2]
  assert [seed for _, seed in synthesized] == [
      sample_pack.batch_seed(5, batch) for batch in batches]
  codes = np.concatenate([codes for codes, _ in synthesized])
  assert codes.shape == (8, NOTE_FRAMES, 4)
  # Unconditioned model: each source was shifted to the note's pitch, then
  # encoded. Source 1 is at 64 already; source 0 (57) went up 7 semitones.
  clip = source_clip(sources[1])
  np.testing.assert_allclose(codes[notes.index((0, 1, 64))],
                             model.encode(clip[None])[0], atol=1e-5)
  shifted = librosa.effects.pitch_shift(source_clip(sources[0]), sr=RATE,
                                        n_steps=7)
  np.testing.assert_allclose(codes[notes.index((0, 0, 64))],
                             model.encode(shifted[None])[0], atol=1e-5)
  assert not np.allclose(codes[notes.index((0, 0, 60))],
                         codes[notes.index((0, 0, 64))], atol=1e-3)


def test_the_default_format_is_the_benchmarks_fastest_here(
    tmp_path, tiny_checkpoint, sources, monkeypatch):
  monkeypatch.setenv('MAGENTA_WAVENET_HOME', str(tmp_path / 'home'))
  _, model = tiny_checkpoint
  batch_choice.save_timings(model.config, {
      ('float32', 'numba'): {1: 0.05, 4: 0.09},
      ('float16', 'numba'): {1: 0.06, 4: 0.08},
      ('int8', 'numba'): {1: 0.04, 4: 0.10}})
  manifest = sample_pack.render_pack(model, sources[:2], str(tmp_path / 'a'),
                                     2, [60], NOTE, seed=5, batch_size=4)
  assert manifest['model']['decoder_weights'] == 'float16'
  # A pack keeps its own format when it is rendered again, whatever the
  # benchmark has found since.
  batch_choice.save_timings(model.config, {('int8', 'numba'): {4: 0.01}})
  assert batch_choice.best_format(model.config, 4)[0] == 'int8'
  manifest = sample_pack.render_pack(model, sources[:2], str(tmp_path / 'a'),
                                     2, [60], NOTE)
  assert manifest['model']['decoder_weights'] == 'float16'


def test_pitch_conditioned_codes_are_the_sources_shifted_to_each_pitch(
    tmp_path, pitch_model, sources, synthesized):
  pair = [sources[0], sources[2]]  # MIDI 57 and 69
  folder = str(tmp_path / 'pack')
  manifest = sample_pack.render_pack(pitch_model, pair, folder, 3, [50, 69],
                                     NOTE, seed=2)
  assert manifest['grid']['rows'] == 1 and manifest['grid']['cols'] == 3
  assert manifest['shifted_sources'] is True
  (codes, _), = synthesized
  notes = sample_pack.plan_notes(1, 3, (50, 69))
  assert codes.shape == (6, NOTE_FRAMES, 5)
  for note, code in zip(notes, codes):
    np.testing.assert_array_equal(code[:, -1], note[2])

  def code_at(path, own, midi):
    shifted = librosa.effects.pitch_shift(source_clip(path), sr=RATE,
                                          n_steps=midi - own)
    return pitch_model.encode(shifted[None], pitch=midi)[0, :, :4]
  # Each source moved from its own pitch to the note's, then mixed.
  np.testing.assert_allclose(
      codes[notes.index((0, 1, 50))][:, :4],
      0.5 * code_at(pair[0], 57, 50) + 0.5 * code_at(pair[1], 69, 50),
      atol=1e-5)
  np.testing.assert_allclose(
      codes[notes.index((0, 0, 69))][:, :4], code_at(pair[0], 57, 69),
      atol=1e-5)
  # At its own pitch a source is not moved at all.
  np.testing.assert_allclose(
      codes[notes.index((0, 2, 69))][:, :4],
      pitch_model.encode(source_clip(pair[1])[None])[0, :, :4], atol=1e-5)
  assert not np.allclose(codes[notes.index((0, 2, 50))][:, :4],
                         codes[notes.index((0, 2, 69))][:, :4], atol=1e-3)
  assert len(manifest['samples']) == 6
  for name in manifest['samples']:
    assert soundfile.info(os.path.join(folder, name)).frames == NOTE_SAMPLES
  # A pack begun when the sources were encoded unshifted (its manifest
  # lacks the key) is not completed with shifted ones.
  manifest_path = os.path.join(folder, 'manifest.json')
  with open(manifest_path, encoding='utf-8') as stream:
    older = json.load(stream)
  del older['shifted_sources']
  older['complete'] = False
  with open(manifest_path, 'w', encoding='utf-8') as stream:
    json.dump(older, stream)
  with pytest.raises(mw.MagentaWavenetError,
                     match=r'another shifted_sources \(none there, true '
                     r'now\)'):
    sample_pack.render_pack(pitch_model, pair, folder, 3, [50, 69], NOTE)


def test_interrupted_render_resumes_to_identical_files(
    tmp_path, tiny_checkpoint, sources, synthesized):
  _, model = tiny_checkpoint
  pair = [sources[0], sources[2]]
  settings = dict(points=3, pitches=[60, 67], note_length=NOTE)

  def stop(done, total):
    assert (done, total) == (4, 6)
    raise KeyboardInterrupt

  resumed = str(tmp_path / 'resumed')
  with pytest.raises(KeyboardInterrupt):
    sample_pack.render_pack(model, pair, resumed, seed=9, batch_size=4,
                            on_batch=stop, **settings)
  with open(os.path.join(resumed, 'manifest.json'), encoding='utf-8') as f:
    assert json.load(f)['complete'] is False
  first = sample_pack.plan_notes(1, 3, (60, 67))[:4]
  assert pack_files(resumed) == sorted(
      ['manifest.json'] + [sample_pack.sample_path(*n) for n in first])
  # No seed or batch size: the pack's own are taken; only batch 2 is left.
  del synthesized[:]
  sample_pack.render_pack(model, pair, resumed, **settings)
  assert [len(codes) for codes, _ in synthesized] == [2]
  whole = str(tmp_path / 'whole')
  sample_pack.render_pack(model, pair, whole, seed=9, batch_size=4,
                          **settings)
  files = pack_files(whole)
  assert pack_files(resumed) == files and len(files) == 6 + 3 + 1
  for name in files:
    with open(os.path.join(resumed, name), 'rb') as one, open(
        os.path.join(whole, name), 'rb') as other:
      assert one.read() == other.read(), name
  waves = [soundfile.read(os.path.join(whole, name))[0]
           for name in files if name.endswith('.wav')]
  assert all(np.abs(wave).max() > 0.01 for wave in waves)
  assert len({wave.tobytes() for wave in waves}) == 6
  codes = synthesized[-2][0]  # whole's first batch: (0, 0..1, 60/67)
  np.testing.assert_allclose(codes[2], 0.5 * codes[0] + 0.5 * synthesized[
      -1][0][0], atol=1e-5)


def run_instrument(*flags):
  return instrument.main(['instrument', '--log=ERROR'] + list(flags))


def test_command_renders_bundled_and_file_sources(tmp_path, tiny_checkpoint,
                                                  sources, capsys):
  path, _ = tiny_checkpoint
  folder = tmp_path / 'pack'
  assert run_instrument(f'--sources=nsynth_e5,{sources[2]}', '--points=2',
                        '--pitches=69', '--note_length=640',
                        f'--checkpoint_path={path}', '--seed=3',
                        f'--save_path={folder}') == 0
  assert capsys.readouterr().out.strip() == (
      f'wrote 2 notes and 2 SFZ instruments to {folder}')
  manifest = json.loads((folder / 'manifest.json').read_text())
  assert manifest['sources'] == [
      {'name': 'nsynth_e5', 'path': mw.bundled_sound('nsynth_e5'),
       'pitch': 76},
      {'name': sources[2], 'path': sources[2], 'pitch': 69}]
  assert manifest['model']['name'] == path
  assert manifest['note_samples'] == 640 and manifest['complete']
  assert regions(folder / 'p0_1.sfz') == [
      ('samples/p0_1_m069.wav', 0, 127, 69)]
  assert soundfile.info(str(folder / 'samples/p0_0_m069.wav')).frames == 640


@pytest.mark.parametrize('flags, message', [
    (['--sources={s0},{s1},{s2}'],
     r'^error: need 2 source sounds \(a line\) or 4 \(a grid\), got 3\.$'),
    (['--sources={s0},{s1}', '--pitches=60,128'],
     r"^error: pitch '128' is not a MIDI note number in 0\.\.127\.$"),
    (['--sources={s0},{tmp}/notes.txt'],
     r'^error: \S+/notes\.txt: not a readable audio file'),
    (['--sources={tmp}/short.wav,{s1}'],
     r'^error: \S+/short\.wav: too short: 40 samples at 16000 Hz, at least '
     r'64 needed\.$'),
    (['--sources={s0},{tmp}/missing.wav'],
     r'^error: \S+/missing\.wav: no such file\.$'),
    (['--sources={s0},{s1}', '--note_length=long'],
     r"^error: note length 'long': give seconds"),
    (['--sources={s0},{s1}', '--seed=4'],
     r'^error: \S+/pack/manifest\.json: the pack there has another seed '
     r'\(3 there, 4 now\)'),
    (['--sources={s0},{s1}', '--retry_off_pitch'],
     r'^error: \S+/pack/manifest\.json: the pack there has another '
     r'retry_off_pitch \(none there, true now\)'),
])
def test_bad_inputs_give_one_line(tmp_path, tiny_checkpoint, sources, capsys,
                                  flags, message):
  path, _ = tiny_checkpoint
  (tmp_path / 'notes.txt').write_text('not audio at all\n')
  soundfile.write(str(tmp_path / 'short.wav'), tone(40), RATE)
  pack = tmp_path / 'pack'
  pack.mkdir()
  (pack / 'manifest.json').write_text(json.dumps(sample_pack.make_manifest(
      sources[:2], sources[:2], SOURCE_PITCHES[:2],
      sample_pack.grid_weights(2, 3), (48, 60, 72), 16000, path,
      mw.get_config('tiny'), 3, 16, 'float32')))
  flags = [flag.format(s0=sources[0], s1=sources[1], s2=sources[2],
                       tmp=tmp_path) for flag in flags]
  assert run_instrument(f'--checkpoint_path={path}', f'--save_path={pack}',
                        *flags) == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and re.search(message, err[0]), err


def test_expected_values_are_a_setting_of_the_pack(
    tmp_path, tiny_checkpoint, sources, monkeypatch):
  _, model = tiny_checkpoint
  asked = []
  synthesize = generation.synthesize

  def spy(*args, **kwargs):
    asked.append(kwargs['expected_value'])
    return synthesize(*args, **kwargs)
  monkeypatch.setattr(generation, 'synthesize', spy)
  pair = [sources[0], sources[2]]
  settings = dict(points=2, pitches=[60], note_length=NOTE, seed=9,
                  batch_size=4)
  means = str(tmp_path / 'means')
  manifest = sample_pack.render_pack(model, pair, means, expected_value=True,
                                     **settings)
  assert manifest['expected_value'] is True and asked == [True]
  plain = str(tmp_path / 'plain')
  manifest = sample_pack.render_pack(model, pair, plain, **settings)
  assert 'expected_value' not in manifest and asked == [True, False]
  for name in pack_files(plain):
    if name.endswith('.wav'):
      drawn = soundfile.read(os.path.join(plain, name))[0]
      assert not np.allclose(soundfile.read(os.path.join(means, name))[0],
                             drawn, atol=1e-3)
  with pytest.raises(mw.MagentaWavenetError,
                     match=r'another expected_value \(true there, none '
                     r'now\)'):
    sample_pack.render_pack(model, pair, means, expected_value=False,
                            **settings)
  with pytest.raises(mw.MagentaWavenetError,
                     match='expected_value must be true or false, got 1'):
    sample_pack.render_pack(model, pair, str(tmp_path / 'bad'),
                            expected_value=1, **settings)


def test_the_harmonic_filter_is_a_setting_of_the_pack(
    tmp_path, tiny_checkpoint, sources, monkeypatch):
  _, model = tiny_checkpoint
  filtered = []

  def spy(audio, attenuation_db, sample_rate):
    filtered.append((len(audio), attenuation_db, sample_rate))
    return np.full_like(audio, 0.125)
  monkeypatch.setattr(sample_pack, 'harmonic_filter', spy)
  pair = [sources[0], sources[2]]
  settings = dict(points=3, pitches=[60, 67], note_length=NOTE, seed=9,
                  batch_size=4)

  def stop(done, total):
    raise KeyboardInterrupt
  folder = str(tmp_path / 'filtered')
  with pytest.raises(KeyboardInterrupt):
    sample_pack.render_pack(model, pair, folder, harmonic_filter_db=18.0,
                            on_batch=stop, **settings)
  # Left out, a resumed pack takes its own: every note is filtered alike.
  manifest = sample_pack.render_pack(model, pair, folder, **settings)
  assert manifest['harmonic_filter_db'] == 18.0
  assert filtered == [(NOTE_SAMPLES, 18.0, RATE)] * 6
  for name in pack_files(folder):
    if name.endswith('.wav'):
      np.testing.assert_allclose(
          soundfile.read(os.path.join(folder, name))[0], 0.125, atol=1e-4)
  with pytest.raises(mw.MagentaWavenetError,
                     match=r'another harmonic_filter_db \(18.0 there, none '
                     r'now\)'):
    sample_pack.render_pack(model, pair, folder, harmonic_filter_db=0.0,
                            **settings)
  # A pack without the filter records nothing of it, and refuses one.
  plain = str(tmp_path / 'plain')
  manifest = sample_pack.render_pack(model, pair, plain, **settings)
  assert 'harmonic_filter_db' not in manifest
  assert filtered[6:] == [(NOTE_SAMPLES, 0.0, RATE)] * 6
  with pytest.raises(mw.MagentaWavenetError,
                     match=r'another harmonic_filter_db \(none there, 12.0 '
                     r'now\)'):
    sample_pack.render_pack(model, pair, plain, harmonic_filter_db=12.0,
                            **settings)
  for bad in (-1.0, float('nan'), '20', True):
    with pytest.raises(mw.MagentaWavenetError, match='0 dB or more, got'):
      sample_pack.render_pack(model, pair, str(tmp_path / 'bad'),
                              harmonic_filter_db=bad, **settings)
  # A manifest edited to hold something else is refused as plainly.
  manifest_path = os.path.join(folder, 'manifest.json')
  with open(manifest_path, encoding='utf-8') as stream:
    edited = json.load(stream)
  edited['harmonic_filter_db'] = 'loud'
  with open(manifest_path, 'w', encoding='utf-8') as stream:
    json.dump(edited, stream)
  with pytest.raises(mw.MagentaWavenetError, match="got loud"):
    sample_pack.render_pack(model, pair, folder, **settings)


def test_notes_off_their_pitch_are_retried_from_their_sources_moved(
    tmp_path, pitch_model, sources, monkeypatch, caplog):
  calls = []

  def fake(model, encodings, seed, lengths, progress=None, weights=None,
           expected_value=None):
    # Plays the pitch its code is told, but 60 comes back at 3 f0 and 61
    # at 2 f0: only a move of -1 fixes a note at 60.
    assert expected_value is False  # the draws, unless the pack says
    calls.append((np.array(encodings), seed))
    return np.stack([
        tone(lengths[0], frequency=440.0 * 2**((midi - 69) / 12)
             * {60: 3, 61: 2}.get(int(midi), 1))
        for midi in np.array(encodings)[:, 0, -1]])
  monkeypatch.setattr(generation, 'synthesize', fake)
  pair = [sources[0], sources[2]]  # MIDI 57 and 69
  settings = dict(points=2, pitches=[60, 67], note_length=8000, seed=4,
                  batch_size=4)
  folder = str(tmp_path / 'retried')
  with caplog.at_level('INFO', logger='magenta_wavenet.pitch_retry'):
    manifest = sample_pack.render_pack(pitch_model, pair, folder,
                                       retry_off_pitch=True, **settings)
  assert manifest['retry_off_pitch'] is True
  notes = sample_pack.plan_notes(1, 2, (60, 67))
  (first, seed), *retries = calls
  # Both notes at 60 are generated again at 61, 59: the same seed, their
  # sources moved there and mixed alike.
  assert [(len(codes), int(codes[0, 0, -1]), again) for codes, again
          in retries] == [(2, 61, seed), (2, 59, seed)]
  moved = sample_pack.moved_note_codes(
      pitch_model, [source_clip(path, 125) for path in pair], [57, 69],
      sample_pack.grid_weights(2, 2), (60, 67), 125, (0, -1))
  np.testing.assert_allclose(first, moved[0], atol=1e-5)
  np.testing.assert_allclose(retries[1][0], moved[-1][[0, 2]], atol=1e-5)
  for note in notes:
    audio, _ = soundfile.read(os.path.join(folder,
                                           sample_pack.sample_path(*note)))
    assert pitch_retry.plays_pitch(audio.astype(np.float32), note[2],
                                      RATE), note
  assert caplog.text.count('played off its pitch; generated again from its '
                           'sources moved -1 semitones') == 2
  # Without the setting the notes stay as generated, at 3 f0.
  del calls[:]
  plain = str(tmp_path / 'plain')
  manifest = sample_pack.render_pack(pitch_model, pair, plain, **settings)
  assert 'retry_off_pitch' not in manifest and len(calls) == 1
  audio, _ = soundfile.read(os.path.join(plain, 'samples/p0_0_m060.wav'))
  assert not pitch_retry.plays_pitch(audio.astype(np.float32), 60, RATE)
  # A pack keeps its setting: left out it is the pack's own, and another
  # is refused.
  with pytest.raises(mw.MagentaWavenetError,
                     match=r'another retry_off_pitch \(none there, true '
                     r'now\)'):
    sample_pack.render_pack(pitch_model, pair, plain, retry_off_pitch=True,
                            **settings)
  assert sample_pack.render_pack(pitch_model, pair, folder,
                                 **settings)['retry_off_pitch'] is True
  with pytest.raises(mw.MagentaWavenetError,
                     match='retry_off_pitch must be true or false, got 1'):
    sample_pack.render_pack(pitch_model, pair, str(tmp_path / 'bad'),
                            retry_off_pitch=1, **settings)


@pytest.mark.parametrize('flag, wanted', [
    ([], None), (['--retry_off_pitch', '--expected_value'], True),
    (['--noretry_off_pitch', '--noexpected_value'], False)])
def test_the_command_passes_the_retry_and_expected_value_settings(
    tmp_path, tiny_checkpoint, sources, monkeypatch, flag, wanted):
  path, _ = tiny_checkpoint
  seen = []

  def spy(*args, **kwargs):
    assert kwargs['expected_value'] is wanted
    seen.append(kwargs['retry_off_pitch'])
    return {'samples': [], 'grid': {'points': []}}
  monkeypatch.setattr(sample_pack, 'render_pack', spy)
  assert run_instrument(f'--sources={sources[0]},{sources[1]}',
                        f'--checkpoint_path={path}',
                        f'--save_path={tmp_path / "pack"}', *flag) == 0
  assert seen == [wanted]  # left out: the pack's own, or False


def test_retries_stay_inside_the_midi_keys(tmp_path, pitch_model, sources,
                                           monkeypatch):
  told = []

  def fake(model, encodings, seed, lengths, progress=None, weights=None,
           expected_value=False):
    told.append(sorted({int(code[0, -1]) for code in encodings}))
    return np.zeros((len(encodings), lengths[0]), np.float32)  # no pitch
  monkeypatch.setattr(generation, 'synthesize', fake)
  manifest = sample_pack.render_pack(
      pitch_model, sources[:2], str(tmp_path / 'edges'), 2, [0, 127],
      NOTE, seed=1, retry_off_pitch=True)
  assert manifest['complete']
  # First both keys; then 1 (+1), 126 (-1), 2 (+2), 125 (-2): no move
  # beyond 0..127 is generated.
  assert told == [[0, 127], [1], [126], [2], [125]]
