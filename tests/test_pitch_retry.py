"""Retrying the resyntheses that do not play their pitch (`pitch_retry`), and
`generate --retry_off_pitch`."""

from conftest import tiny_pitch_model
from conftest import tone
import numpy as np
import pytest
import soundfile

import magenta_wavenet as mw
from magenta_wavenet import pitch_retry
from magenta_wavenet import resynthesis
from magenta_wavenet.cli import generate
from magenta_wavenet.sound.pitch import fast_f0
from magenta_wavenet.sound.pitch import shift_pitch
from magenta_wavenet.training import evaluation

RATE = 16000
SAMPLES = 8000  # 0.5 s


def at(midi, samples=SAMPLES):
  """A sine at MIDI `midi`."""
  return tone(samples, frequency=440.0 * 2**((midi - 69) / 12))


@pytest.fixture(scope='module')
def model():
  return tiny_pitch_model()


def test_plays_pitch_tells_the_pitch_from_a_partial_and_from_noise():
  assert pitch_retry.plays_pitch(at(57), 57, RATE)
  assert not pitch_retry.plays_pitch(at(57 + 19.02), 57, RATE)  # 3 f0
  assert not pitch_retry.plays_pitch(at(60), 57, RATE)
  noise = np.random.default_rng(0).normal(0, 0.3, SAMPLES)
  assert not pitch_retry.plays_pitch(noise.astype(np.float32), 57, RATE)


def test_a_note_off_pitch_is_kept_from_the_first_move_that_plays_it(model):
  originals = [at(57), at(64)]
  first = [at(57 + 19.02), at(64)]  # the first locked to 3 f0
  calls = []

  def generate(codes, rows):
    # Plays whatever pitch the code is told, but only a semitone down:
    # a semitone up it still plays 3 f0.
    calls.append((codes.copy(), list(rows)))
    return np.stack([at(code[0, -1] + (19.02 if code[0, -1] > 57 else 0))
                     for code in codes])

  kept, moves = pitch_retry.retry_off_pitch(model, originals, [57, 64],
                                            first, generate)
  assert moves.tolist() == [-1, 0]
  assert [rows for _, rows in calls] == [[0], [0]]
  for (codes, _), move in zip(calls, (1, -1)):
    np.testing.assert_allclose(
        codes, mw.encode_shifted(model, originals[0], [57 + move], 57),
        atol=1e-6)
  # The retry moved back: MIDI 56 shifted up a semitone, at full length.
  np.testing.assert_allclose(kept[0], shift_pitch(at(56), 1, RATE),
                             atol=1e-3)  # 56 told as float32 there
  assert pitch_retry.plays_pitch(kept[0], 57, RATE)
  assert kept[1] is first[1] or np.array_equal(kept[1], first[1])


def test_a_note_no_move_fixes_keeps_its_first_resynthesis(model):
  first = [at(57 + 12)]
  tried = []

  def generate(codes, rows):
    tried.append(float(codes[0, 0, -1]))
    return np.stack([at(code[0, -1] + 12) for code in codes])  # an octave up

  kept, moves = pitch_retry.retry_off_pitch(model, [at(57)], [57], first,
                                            generate)
  assert tried == [58, 56, 59, 55]
  assert moves.tolist() == [0]
  np.testing.assert_array_equal(kept[0], first[0])


def part_at(midi, share, samples=SAMPLES):
  """A note at MIDI `midi` for the first `share` of its samples, a fifth up
  after."""
  split = int(share * samples)
  return np.concatenate([at(midi, samples)[:split],
                         at(midi + 7, samples)[split:]])


def test_frames_on_pitch_is_the_share_of_the_originals_voiced_frames():
  track = fast_f0(at(57), RATE)
  assert pitch_retry.frames_on_pitch(track, at(57), RATE) == 1.0
  assert pitch_retry.frames_on_pitch(track, at(69), RATE) == 0.0
  assert 0.3 < pitch_retry.frames_on_pitch(track, part_at(57, 0.5),
                                           RATE) < 0.6
  silence = fast_f0(np.zeros(SAMPLES, np.float32), RATE)
  assert np.isnan(pitch_retry.frames_on_pitch(silence, at(57), RATE))


def test_a_note_partly_off_its_pitch_keeps_the_retry_that_plays_it_most(
    model):
  # The first plays its pitch for 70% of the note (62% of pYIN's frames),
  # which its median calls the pitch; no move reaches 90% once shifted back
  # (the best, -1, 75%), so all four are tried and the best kept.
  shares = {58: 0.5, 56: 0.9, 59: 0.0, 55: 0.6}
  first = part_at(57, 0.7)
  assert pitch_retry.plays_pitch(first, 57, RATE)
  tried = []

  def generate(codes, rows):
    told = round(float(codes[0, 0, -1]))
    tried.append(told)
    return np.stack([part_at(told, shares[told])])

  kept, moves = pitch_retry.retry_off_pitch(model, [at(57)], [57], [first],
                                            generate)
  assert tried == [58, 56, 59, 55]
  assert moves.tolist() == [-1]
  np.testing.assert_allclose(kept[0], shift_pitch(part_at(56, 0.9), 1, RATE),
                             atol=1e-3)
  # A candidate whose median is another pitch scores none, though some of
  # its frames are on pitch: it does not replace a first with none.
  silent = np.zeros(SAMPLES, np.float32)
  assert pitch_retry.frames_on_pitch(
      fast_f0(at(57), RATE), shift_pitch(part_at(58, 0.4), -1, RATE),
      RATE) > 0.2
  shares.update({58: 0.4, 56: 0.0})
  _, moves = pitch_retry.retry_off_pitch(model, [at(57)], [57], [silent],
                                         generate)
  assert moves.tolist() == [0]
  shares[56] = 0.9
  # One that reaches 90% ends the retries.
  shares[58] = 1.0
  tried.clear()
  _, moves = pitch_retry.retry_off_pitch(model, [at(57)], [57], [first],
                                         generate)
  assert tried == [58] and moves.tolist() == [1]


def test_a_note_whose_original_has_no_pitch_is_not_retried(model):
  silence = np.zeros(SAMPLES, np.float32)  # no voiced frame: no pitch
  noise = np.random.default_rng(1).normal(0, 0.3, SAMPLES).astype(np.float32)

  def generate(codes, rows):
    raise AssertionError('nothing to retry')

  kept, moves = pitch_retry.retry_off_pitch(model, [silence], [60], [noise],
                                            generate)
  assert moves.tolist() == [0]
  np.testing.assert_array_equal(kept[0], noise)


def test_moves_outside_the_midi_keys_are_not_tried():
  tried = []

  def moved_codes(rows, move):
    tried.append((list(rows), move))
    return np.zeros((len(rows), 1, 1), np.float32)

  def generate(codes, rows):
    return np.stack([at(60 + 12)] * len(codes))  # never the pitch

  first = [at(72)] * 3  # off the pitch of each
  kept, moves = pitch_retry.retry_moved([126, 1, 60], first, generate,
                                        moved_codes, RATE)
  # 126 + 2 and 1 - 2 lie outside 0..127: those notes skip that move.
  assert tried == [([0, 1, 2], 1), ([0, 1, 2], -1), ([1, 2], 2),
                   ([0, 2], -2)]
  assert moves.tolist() == [0, 0, 0]
  for note, before in zip(kept, first):
    np.testing.assert_array_equal(note, before)


def test_notes_of_different_lengths_are_padded_and_cut_back(model):
  originals = [at(57, 4096), at(64, 2048)]
  first = [np.zeros(4096, np.float32), np.zeros(2048, np.float32)]
  shapes = []

  def generate(codes, rows):
    shapes.append(codes.shape)
    return np.stack([at(code[0, -1], 4096) for code in codes])

  kept, moves = pitch_retry.retry_off_pitch(model, originals, [57, 64],
                                            first, generate)
  assert shapes == [(2, 64, 5)]  # 4096 / 64 frames; the shorter padded
  assert moves.tolist() == [1, 1]
  assert [len(note) for note in kept] == [4096, 2048]


def test_generate_retries_audio_inputs_and_refuses_codes(
    tiny_pitch_checkpoint, tmp_path, monkeypatch, capsys):
  checkpoint, _ = tiny_pitch_checkpoint
  soundfile.write(tmp_path / 'a.wav', at(57, 1280), RATE)
  soundfile.write(tmp_path / 'b.wav', at(64, 640), RATE)
  seen = []

  def spy(model, originals, pitches, resyntheses, generate_again):
    seen.append(([len(o) for o in originals], list(pitches),
                 [len(r) for r in resyntheses]))
    again = generate_again(
        np.stack([mw.encode_shifted(model, originals[0], [pitches[0]])[0]]),
        [0])
    assert again.shape == (1, 1280)
    return ([np.full(len(r), 0.25, np.float32) for r in resyntheses],
            np.array([1, 0]))
  monkeypatch.setattr(resynthesis.pitch_retry, 'retry_off_pitch', spy)
  assert generate.main([
      'generate', f'--checkpoint_path={checkpoint}',
      f'--source_path={tmp_path}', f'--save_path={tmp_path / "out"}',
      '--batch_size=2', '--retry_off_pitch']) == 0
  assert seen == [([1280, 640], [57.0, 64.0], [1280, 640])]
  for name, length in (('gen_a.wav', 1280), ('gen_b.wav', 640)):
    written, _ = soundfile.read(tmp_path / 'out' / name, dtype='float32')
    np.testing.assert_allclose(written, np.full(length, 0.25), atol=1e-4)
  err = capsys.readouterr().err
  assert 'a.wav: played off its pitch; generated again from the note moved ' \
         '+1 semitones, then moved back.' in err
  assert 'b.wav: played off' not in err
  np.save(tmp_path / 'code.npy', np.zeros((4, 5), np.float32))
  assert generate.main([
      'generate', f'--checkpoint_path={checkpoint}',
      f'--source_path={tmp_path / "code.npy"}', '--npy_only',
      f'--save_path={tmp_path / "codes"}', '--retry_off_pitch']) == 1
  assert capsys.readouterr().err.splitlines()[-1] == (
      'error: retrying off-pitch notes needs the audio: it moves the input '
      'notes, and a code cannot be moved.')


def test_evaluate_scores_the_retried_resyntheses(model, monkeypatch):
  originals = np.stack([at(57), at(64)])
  seen = []

  def spy(model, notes, pitches, resyntheses, generate_again):
    seen.append((np.array(notes), list(pitches)))
    return [at(pitch) for pitch in pitches], np.array([0, 2])
  monkeypatch.setattr(evaluation.pitch_retry, 'retry_off_pitch', spy)
  scores, audio = evaluation.evaluate(model, originals, ['a', 'b'], [57, 64],
                                      retry_off_pitch=True)
  (notes, pitches), = seen
  np.testing.assert_array_equal(notes, originals)
  assert pitches == [57, 64]  # the codes' pitch channel, pYIN's
  np.testing.assert_allclose(audio, np.stack([at(57), at(64)]), atol=1e-4)
  assert [s.partial for s in scores] == ['1', '1']
  assert all(s.pitch_accuracy == 1.0 for s in scores)
