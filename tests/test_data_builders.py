"""Dataset builders: from a folder of named notes, and from a SoundFont."""

import os

import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet.cli import make_dataset
from magenta_wavenet.data import builders
from magenta_wavenet.data import reader
from magenta_wavenet.data import schema
from magenta_wavenet.data import soundfont

needs_fluidsynth = pytest.mark.skipif(
    soundfont.fluidsynth_path() is None
    or not os.path.isfile(soundfont.DEFAULT_SOUNDFONT),
    reason='needs the Debian packages fluidsynth and fluid-soundfont-gm '
           f'({soundfont.DEFAULT_SOUNDFONT})')


def read_all(folder, split):
  pattern = os.path.join(folder, f'nsynth-{split}-*')
  dataset = reader.nsynth_dataset(pattern, 64, training=False,
                                  crop_length=64000)
  notes = {}
  for batch in dataset:
    for name, audio, pitch in zip(batch['note_str'].numpy(),
                                  batch['audio'].numpy(),
                                  batch['pitch'].numpy()):
      notes[name.decode()] = (audio, int(pitch))
  return notes


def peak_frequency(audio, sample_rate=16000):
  spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
  return np.argmax(spectrum) * sample_rate / len(audio)


def test_split_is_deterministic_and_near_the_fractions():
  names = [f'keyboard_acoustic_000-{p:03d}-{v:03d}' for p in range(128)
           for v in (25, 50, 75, 100, 127)]
  splits = [builders.assign_split(name, 0.1, 0.2) for name in names]
  assert splits == [builders.assign_split(name, 0.1, 0.2) for name in names]
  assert 0.05 < splits.count('valid') / len(names) < 0.15
  assert 0.15 < splits.count('test') / len(names) < 0.25
  with pytest.raises(mw.DataError):
    builders.assign_split(names[0], 0.5, 0.5)


def test_folder_of_named_notes(tmp_path):
  source = tmp_path / 'notes'
  (source / 'deeper').mkdir(parents=True)
  t = np.arange(24000) / 16000.0
  for name, freq in (('keyboard_acoustic_004-069-100', 440.0),
                     ('deeper/brass_electronic_002-057-050', 220.0)):
    mw.save_wav(str(source / f'{name}.wav'), 0.5 * np.sin(2 * np.pi * freq * t))
  counts = builders.build_from_folder(str(source), str(tmp_path / 'out'),
                                      valid_fraction=0.0, test_fraction=0.0)
  assert counts == {'train': 2, 'valid': 0, 'test': 0}
  notes = read_all(str(tmp_path / 'out'), 'train')
  audio, pitch = notes['keyboard_acoustic_004-069-100']
  assert pitch == 69 and audio.shape == (64000,)
  assert np.all(audio[24000:] == 0)  # 1.5 s padded to 4 s
  assert peak_frequency(audio[:24000]) == pytest.approx(440.0, abs=2)


def test_folder_with_a_badly_named_file(tmp_path):
  mw.save_wav(str(tmp_path / 'my_piano_note.wav'), np.zeros(1000))
  with pytest.raises(mw.DataError, match='my_piano_note.wav.*NSynth note'):
    builders.build_from_folder(str(tmp_path), str(tmp_path / 'out'))


def test_midi_file_holds_three_seconds_per_note():
  midi = soundfont.midi_file(40, [(60, 100), (62, 75)])
  assert midi.startswith(b'MThd') and b'MTrk' in midi
  assert bytes([0xC0, 40]) in midi  # program change
  # note on, 3000 ticks (= ms) later note off: 3000 = 0x97 0x38 as a VLQ
  assert bytes([0x90, 60, 100, 0x97, 0x38, 0x80, 60, 0]) in midi


@needs_fluidsynth
def test_soundfont_notes_have_their_pitch_and_shape(tmp_path):
  counts = builders.build_from_soundfont(
      str(tmp_path), programs=[0, 73], pitch_range=(60, 72), pitch_step=12,
      velocities=[100], valid_fraction=0.0, test_fraction=0.0, num_shards=2,
      compression='GZIP')
  assert counts['train'] == 4
  notes = read_all(str(tmp_path), 'train')
  assert sorted(notes) == [
      'flute_acoustic_073-060-100', 'flute_acoustic_073-072-100',
      'keyboard_acoustic_000-060-100', 'keyboard_acoustic_000-072-100']
  for name, (audio, pitch) in notes.items():
    assert np.max(np.abs(audio)) == pytest.approx(0.9, abs=1e-3), name
    held = np.sqrt(np.mean(audio[:48000]**2))
    tail = np.sqrt(np.mean(audio[-3200:]**2))
    assert tail < 0.1 * held, name  # released after 3 s
    expected = 440.0 * 2**((pitch - 69) / 12)
    found = peak_frequency(audio[4000:20000])
    assert abs(12 * np.log2(found / expected)) < 0.5, (name, found)


@needs_fluidsynth
def test_command_line_builds_from_the_soundfont(tmp_path, capsys):
  assert make_dataset.main(
      ['make_dataset', '--soundfont', soundfont.DEFAULT_SOUNDFONT,
       '--programs', '40', '--pitch_min', '60', '--pitch_max', '61',
       '--velocities', '127', '--output_dir', str(tmp_path)]) == 0
  assert 'notes ->' in capsys.readouterr().out
  total = sum(len(read_all(str(tmp_path), split)) for split in builders.SPLITS)
  assert total == 2


def test_command_line_reports_errors(tmp_path, capsys):
  assert make_dataset.main(['make_dataset', '--input_dir', str(tmp_path),
                            '--output_dir', str(tmp_path / 'out')]) == 1
  assert 'holds no audio file' in capsys.readouterr().err


def test_bad_split_fractions_stop_before_any_rendering(tmp_path, monkeypatch):
  def render_notes(*args, **kwargs):
    raise AssertionError('rendered before checking the fractions')
  monkeypatch.setattr(soundfont, 'render_notes', render_notes)
  with pytest.raises(mw.DataError, match='fractions must be >= 0'):
    builders.build_from_soundfont(str(tmp_path), [40], (60, 61), (127,),
                                  valid_fraction=0.0, test_fraction=1.0)
  with pytest.raises(mw.DataError, match='fractions must be >= 0'):
    builders.build_from_folder(str(tmp_path / 'none'), str(tmp_path / 'out'),
                               valid_fraction=-0.1)


def test_every_melodic_program_has_a_valid_instrument_and_range():
  # The General MIDI programs without a steady pitch of their own.
  unpitched = {47, 55, 86} | set(range(96, 104)) | {113} | set(range(
      115, 128))
  assert set(soundfont.GM_PROGRAMS) == set(range(115)) - unpitched
  for number, program in soundfont.GM_PROGRAMS.items():
    assert program.number == number
    labels = schema.parse_note_name(f'{program.instrument_str}-060-100')
    assert (labels.family_str, labels.source_str) == (program.family,
                                                      program.source)
    assert 21 <= program.lowest < program.highest <= 108, program
    assert program.highest - program.lowest >= 12, program  # an octave


def test_command_line_programs_all_builds_every_known_program(
    tmp_path, monkeypatch, capsys):
  asked = []

  def build_from_soundfont(output_dir, programs, **kwargs):
    asked.append(programs)
    return {'train': 0}
  monkeypatch.setattr(builders, 'build_from_soundfont', build_from_soundfont)
  assert make_dataset.main(
      ['make_dataset', '--soundfont', 'any.sf2', '--programs', 'all',
       '--output_dir', str(tmp_path)]) == 0
  assert asked == [sorted(soundfont.GM_PROGRAMS)]
  assert make_dataset.main(
      ['make_dataset', '--soundfont', 'any.sf2', '--programs', '0,piano',
       '--output_dir', str(tmp_path / 'bad')]) == 1
  assert ('--programs takes GM program numbers or "all"; got 0,piano.'
          in capsys.readouterr().err)
  assert len(asked) == 1
