"""Resyntheses that play their pitch, by moving the notes that do not.

The default model's locking onto a wrong partial depends sharply on the
exact pitch: the GrandOrgue Hautbois plays 3 and 5 times its pitch at G3
and G4, and its fundamental when the note is moved a semitone up and
encoded there; a phase-vocoder round trip at the same pitch changes
nothing. So a resynthesis that does not play its pitch is generated again
from the note shifted a semitone or two (`codes.encode_shifted`) and
shifted back (`pitch.shift_pitch`), each move in turn until one plays it;
of the first resynthesis and its retries the one that plays the pitch best
is kept (the first on a tie).

How well a resynthesis plays its pitch: where the original note is at hand
(`retry_off_pitch`), the share of the original's voiced frames it plays at
the original's f0 (`frames_on_pitch`, as `metrics.pitch_accuracy` scores
it), kept from `KEPT_SHARE`, and none when its median f0 is not the pitch
(`plays_pitch`: so a note locked to a partial for most of its frames never
wins over one that plays the pitch); a note whose original has no voiced
frame is not retried. For a mix of several sources (`retry_moved`'s default),
whether its median f0 is the pitch (`plays_pitch`). Both on
`pitch.fast_f0`'s track, the same as librosa's.
"""

import logging

import numpy as np

from magenta_wavenet.codes import encode_shifted
from magenta_wavenet.codes import stack_padded
from magenta_wavenet.sound.pitch import MIDI_KEYS
from magenta_wavenet.sound.pitch import fast_f0
from magenta_wavenet.sound.pitch import shift_pitch
from magenta_wavenet.training import metrics

logger = logging.getLogger(__name__)

NEIGHBOURS = (1, -1, 2, -2)  # semitones tried, in this order
KEPT_SHARE = 0.9  # of the original's voiced frames on pitch: not retried


def plays_pitch(audio, pitch, sample_rate, track=None):
  """Whether a note (float [samples]) plays MIDI `pitch` (`metrics.partial`
  within its tolerance); `track` is its `pitch.fast_f0`, when known."""
  if track is None:
    track = fast_f0(audio, sample_rate)
  return metrics.partial(audio, pitch, sample_rate,
                         track=track)[0] == metrics.ON_PITCH


def frames_on_pitch(original_track, audio, sample_rate, track=None):
  """Share of the original's voiced frames that a resynthesis plays at the
  original's f0, within 50 cents (`metrics.pitch_accuracy`).

  Args:
    original_track: The original's (f0, voiced), `pitch.fast_f0`.
    audio: float [samples] resynthesis, as long as the original.
    sample_rate: Hz.
    track: The resynthesis's `pitch.fast_f0`, when known.

  Returns:
    Fraction in [0, 1]; NaN when the original has no voiced frame.
  """
  if track is None:
    track = fast_f0(audio, sample_rate)
  return metrics.pitch_accuracy(None, audio, sample_rate,
                                reference_track=original_track,
                                estimate_track=track)


def log_moves(names, moves, moved):
  """Logs one line for each note kept from a retry.

  Args:
    names: What to call each note (a file, a pack sample, a mix result).
    moves: The move each kept (`retry_moved`); 0 is not logged.
    moved: What was moved: 'the note', 'its sources', 'its sounds'.
  """
  for name, move in zip(names, moves):
    if move:
      logger.info('%s: played off its pitch; generated again from %s moved '
                  '%+d semitones, then moved back.', name, moved, move)


def retry_off_pitch(model, originals, pitches, resyntheses, generate,
                    neighbours=NEIGHBOURS):
  """Replaces the resyntheses that play less than `KEPT_SHARE` of their
  original's voiced frames at its f0 (`frames_on_pitch`), or whose median
  f0 is not their pitch, with the one that plays most of them among the
  note moved to its neighbouring pitches (one whose median is not the
  pitch scores none); each note is moved by shifting its audio there and
  encoding it (`codes.encode_shifted`).

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
  rate = model.config.sample_rate
  tracks = [fast_f0(original, rate) for original in originals]

  def moved_codes(rows, move):
    return stack_padded([
        encode_shifted(model, originals[row], [pitches[row] + move],
                       pitches[row])[0] for row in rows])

  def score(row, audio):
    track = fast_f0(audio, rate)
    share = frames_on_pitch(tracks[row], audio, rate, track)
    if np.isnan(share) or plays_pitch(audio, pitches[row], rate, track):
      return share
    return 0.0

  return retry_moved(pitches, resyntheses, generate, moved_codes, rate,
                     neighbours, score)


def retry_moved(pitches, resyntheses, generate, moved_codes, sample_rate,
                neighbours=NEIGHBOURS, score=None):
  """Retries the resyntheses that do not play their pitch from their notes
  moved, and keeps the best; a note mixed from several sources (a sample
  pack's) moves by moving each source.

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
    neighbours: Semitone moves tried, in order, while a note scores under
      `KEPT_SHARE`; a move that would take a note outside MIDI 0-127 is not
      tried.
    score: Function (row, audio) returning how well `audio` plays note
      row's pitch, in [0, 1] (NaN: the note has no pitch to keep, and is not
      retried). Default: 1 when it plays the pitch (`plays_pitch`), else 0.

  Returns:
    (list of float32 [length] resyntheses, int array [notes] of the move
    each one kept: 0 for its first resynthesis).
  """
  if score is None:
    def score(row, audio):
      return float(plays_pitch(audio, pitches[row], sample_rate))
  kept = [np.asarray(note, np.float32) for note in resyntheses]
  scores = [score(row, note) for row, note in enumerate(kept)]
  moves = np.zeros(len(kept), int)
  todo = [row for row, value in enumerate(scores) if value < KEPT_SHARE]
  for move in neighbours:
    tried = [row for row in todo
             if 0 <= pitches[row] + move < MIDI_KEYS]
    if not tried:
      continue
    for row, audio in zip(tried, generate(moved_codes(tried, move), tried)):
      back = shift_pitch(audio, -move, sample_rate)[:len(kept[row])]
      value = score(row, back)
      if value > scores[row]:
        kept[row], moves[row], scores[row] = back, move, value
      if scores[row] >= KEPT_SHARE:
        todo.remove(row)
  return kept, moves
