"""Resyntheses that play their pitch, by moving the notes that do not.

The default model's locking onto a wrong partial depends sharply on the
exact pitch: the GrandOrgue Hautbois plays 3 and 5 times its pitch at G3
and G4, and its fundamental when the note is moved a semitone up and
encoded there; a phase-vocoder round trip at the same pitch changes
nothing. So a resynthesis that does not play its pitch (a wrong partial,
another pitch, or none) is generated again from the note shifted a
semitone or two (`codes.encode_shifted`) and shifted back
(`pitch.shift_pitch`); the first that then plays the note's own pitch is
kept. A note that none of the moves fixes keeps its first resynthesis.
Judged by the median pYIN f0 (`metrics.partial` on `pitch.fast_f0`'s
track, the same as librosa's).
"""

import numpy as np

from magenta_wavenet.codes import encode_shifted
from magenta_wavenet.codes import stack_padded
from magenta_wavenet.sound.pitch import MIDI_KEYS
from magenta_wavenet.sound.pitch import fast_f0
from magenta_wavenet.sound.pitch import shift_pitch
from magenta_wavenet.training import metrics

NEIGHBOURS = (1, -1, 2, -2)  # semitones tried, in this order


def plays_pitch(audio, pitch, sample_rate):
  """Whether a note (float [samples]) plays MIDI `pitch` (`metrics.partial`
  within its tolerance)."""
  return metrics.partial(audio, pitch, sample_rate, track=fast_f0(
      audio, sample_rate))[0] == metrics.ON_PITCH


def retry_off_pitch(model, originals, pitches, resyntheses, generate,
                    neighbours=NEIGHBOURS):
  """Replaces the resyntheses that do not play their pitch where a
  neighbouring pitch does; each note is moved by shifting its audio there
  and encoding it (`codes.encode_shifted`).

  Args:
    model: The `NSynthAutoencoder` that made them.
    originals: The encoded notes, float32 [samples] each.
    pitches: The MIDI pitch each resynthesis should play (a
      pitch-conditioned model's code channel).
    resyntheses: The first resyntheses, float32 [length] each.
    generate: As for `retry_moved`.
    neighbours: Semitone moves tried, in order, while a note is not fixed.

  Returns:
    As `retry_moved`.
  """
  def moved_codes(rows, move):
    return stack_padded([
        encode_shifted(model, originals[row], [pitches[row] + move],
                       pitches[row])[0] for row in rows])

  return retry_moved(pitches, resyntheses, generate, moved_codes,
                     model.config.sample_rate, neighbours)


def retry_moved(pitches, resyntheses, generate, moved_codes, sample_rate,
                neighbours=NEIGHBOURS):
  """`retry_off_pitch` for notes whose moved codes are given: a mix of
  several sources (a sample pack's note) moves by moving each source.

  Args:
    pitches: The MIDI pitch each resynthesis should play.
    resyntheses: The first resyntheses, float32 [length] each.
    generate: Function (codes float32 [n, frames, code_width], zero-padded
      to the longest; rows: the indices of those n notes) returning their
      audio [n, >= length], as the first resyntheses were generated
      (sampler, seed, lengths).
    moved_codes: Function (rows, move) returning the codes [len(rows),
      frames, code_width] of those notes moved `move` semitones, told their
      pitch + move.
    sample_rate: Hz.
    neighbours: Semitone moves tried, in order, while a note is not fixed;
      a move that would take a note outside MIDI 0-127 is not tried.

  Returns:
    (list of float32 [length] resyntheses, int array [notes] of the move
    each one kept: 0 for its first resynthesis).
  """
  kept = [np.asarray(note, np.float32) for note in resyntheses]
  moves = np.zeros(len(kept), int)
  todo = [row for row, note in enumerate(kept)
          if not plays_pitch(note, pitches[row], sample_rate)]
  for move in neighbours:
    tried = [row for row in todo
             if 0 <= pitches[row] + move < MIDI_KEYS]
    if not tried:
      continue
    for row, audio in zip(tried, generate(moved_codes(tried, move), tried)):
      back = shift_pitch(audio, -move, sample_rate)[:len(kept[row])]
      if plays_pitch(back, pitches[row], sample_rate):
        kept[row], moves[row] = back, move
        todo.remove(row)
  return kept, moves
