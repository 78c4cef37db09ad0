"""Evaluating a model on held-out NSynth notes by resynthesizing them."""

import collections
import dataclasses

import numpy as np

from magenta_wavenet import pitch_retry
from magenta_wavenet.codes import at_level
from magenta_wavenet.codes import encode_shifted
from magenta_wavenet.data import reader
from magenta_wavenet.data import schema
from magenta_wavenet.errors import DataError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.sound import dsp
from magenta_wavenet.sound.harmonics import harmonic_filter
from magenta_wavenet.sound.pitch import f0
from magenta_wavenet.synthesis.generation import synthesize
from magenta_wavenet.training import metrics


@dataclasses.dataclass(frozen=True)
class NoteScore:
  """Scores of one resynthesized note.

  Attributes:
    note_str: NSynth name of the note.
    pitch: Its MIDI pitch label.
    nll_bits: Teacher-forced NLL per sample, bits.
    stft_distance: Multi-resolution STFT distance to the original.
    pitch_accuracy: Share of voiced frames within 50 cents (NaN if none).
    identified: 1.0 when the resynthesis's nearest original among the
      notes of its pitch is its own, 0.0 when another's, NaN when no other
      note has its pitch (`metrics.instrument_identification`).
    original_hnr_db: The original's harmonic-to-noise ratio at its own
      pYIN f0, dB (`metrics.harmonic_to_noise_db`; NaN if unvoiced).
    hnr_db: The resynthesis's, at the original's f0.
    partial: Which partial of the pitch the model was given the
      resynthesis plays: '1' (the pitch), a ratio such as '3' or '1/2'
      (locked to a wrong partial), 'other' or 'unvoiced'
      (`metrics.partial`).
    f0_ratio: The resynthesis's median f0 over that pitch (NaN if
      unvoiced).
    follows: Of the resyntheses from the note's own code with only its
      pitch moved (`follow_semitones`), the share that play the moved
      pitch; NaN when none was asked for.
    follows_shifted: The same share for the note shifted to each moved
      pitch and encoded there (`codes.encode_shifted`), as packs, `mix
      --pitch` and `generate --pitch` play a sound at another pitch.
  """

  note_str: str
  pitch: int
  nll_bits: float
  stft_distance: float
  pitch_accuracy: float
  identified: float
  original_hnr_db: float
  hnr_db: float
  partial: str
  f0_ratio: float
  follows: float
  follows_shifted: float

  @property
  def hnr_gap_db(self):
    """How far the resynthesis's HNR falls below the original's, dB."""
    return self.original_hnr_db - self.hnr_db


def held_out_notes(file_pattern, num_notes, sample_length, note_filter=None):
  """Reads `num_notes` notes spread evenly over the files' notes.

  Args:
    file_pattern: TFRecords of the held-out split.
    num_notes: How many notes; evenly spaced in file order.
    sample_length: Samples kept from each note's start.
    note_filter: Optional `data.NoteFilter`.

  Returns:
    (audio float32 [num_notes, sample_length], note names, MIDI pitches).
  """
  dataset = reader.nsynth_dataset(
      file_pattern, 64, training=False, crop_length=schema.NOTE_SAMPLES,
      note_filter=note_filter)
  audio, names, pitches = [], [], []
  for batch in dataset:
    audio.append(batch['audio'].numpy()[:, :sample_length])
    names += [name.decode() for name in batch['note_str'].numpy()]
    pitches += [int(pitch) for pitch in batch['pitch'].numpy()]
  if not names:
    raise DataError(f'{file_pattern}: no note passes the filters.')
  chosen = np.unique(np.linspace(0, len(names) - 1, num_notes).round()
                     .astype(int))
  return (np.concatenate(audio)[chosen], [names[i] for i in chosen],
          [pitches[i] for i in chosen])


def evaluate(model, audio, names, pitches, temperature=1.0, seed=0,
             batch_size=None, follow_semitones=(), harmonic_filter_db=0.0,
             retry_off_pitch=False, expected_value=False):
  """Resynthesizes notes from their codes and scores each.

  Args:
    model: An `NSynthAutoencoder`.
    audio: float32 [notes, samples] originals.
    names, pitches: Their NSynth names and MIDI pitches.
    temperature, seed: Sampling of `generation.synthesize`.
    batch_size: Notes generated at once (default all).
    follow_semitones: Moves of the pitch, in semitones (a pitch-conditioned
      model only), each resynthesized twice more: from the unchanged code,
      whether the decoder plays the pitch it is given or the one the code
      carries (`NoteScore.follows`), and from the note shifted there
      (`NoteScore.follows_shifted`). Each costs two more generations.
    harmonic_filter_db: dB taken off between the harmonics of each
      resynthesis before it is scored (`harmonics.harmonic_filter`).
    retry_off_pitch: Whether a resynthesis that does not play its pitch is
      generated again from the note moved a semitone or two
      (`pitch_retry.retry_off_pitch`), as `generate --retry_off_pitch`.
    expected_value: Whether each resynthesis (and each of
      `follow_semitones`) is its samples' expected values (`synthesize`'s
      `expected_value`), as `generate --expected_value`.

  Each note is encoded as a command encodes it (`codes.encode_at_level`,
  which raises a note quieter than the model's `input_peak`), its NLL is
  that of the note so raised, and its resynthesis is lowered back before
  it is scored. A pitch-conditioned model hears the pitch pYIN estimates
  from each original, as when a user encodes a sound, not the label; the
  partial a resynthesis plays is judged against that pitch (the label for
  a model without pitch). Instruments are told apart among the notes of
  one label.

  Returns:
    (list of `NoteScore`, resynthesized audio [notes, trimmed samples]).
  """
  return evaluate_seeds(model, audio, names, pitches, temperature, (seed,),
                        batch_size, follow_semitones, harmonic_filter_db,
                        retry_off_pitch, expected_value)[0]


def evaluate_seeds(model, audio, names, pitches, temperature=1.0,
                   seeds=(0,), batch_size=None, follow_semitones=(),
                   harmonic_filter_db=0.0, retry_off_pitch=False,
                   expected_value=False):
  """`evaluate` with each of several sampling seeds; what does not depend on
  the seed (the codes, the NLL, the originals' pYIN tracks) is computed
  once.

  Returns:
    One (list of `NoteScore`, resynthesized audio) per seed, in order.

  Raises:
    MagentaWavenetError: for `follow_semitones` with a model without pitch.
  """
  if follow_semitones and not model.config.pitch_classes:
    raise MagentaWavenetError(
        f'the {model.config.name} model is not pitch-conditioned: there is '
        'no pitch to move for follow_semitones.')
  length = dsp.trimmed_length(audio.shape[1], model.config.hop_length)
  originals = np.asarray(audio[:, :length], np.float32)
  heard, gain = at_level(model, originals)  # as `encode_at_level` hears them
  codes = model.encode(heard).numpy()
  nll = metrics.nll_bits(model, heard, codes)
  rate = model.config.sample_rate
  tracks = [f0(original, rate) for original in originals]
  original_hnr = [metrics.harmonic_to_noise_db(original, track[0], rate)
                  for original, track in zip(originals, tracks)]
  profiles = [metrics.timbre_profile(original, rate)
              for original in originals]
  given = (codes[:, 0, model.config.bottleneck_width]
           if model.config.pitch_classes else np.asarray(pitches, float))
  results = []
  for seed in seeds:
    def generate(played, rows=None, seed=seed):
      del rows  # every note has the same length
      return synthesize(model, played, temperature=temperature, seed=seed,
                        batch_size=batch_size, expected_value=expected_value)
    resynthesis = generate(codes)
    if retry_off_pitch:
      resynthesis, _ = pitch_retry.retry_off_pitch(
          model, originals, given, resynthesis, generate)
    resynthesis = np.stack([harmonic_filter(note, harmonic_filter_db, rate)
                            for note in resynthesis / gain[:, None]])
    follows, follows_shifted = _follows(
        model, originals, codes, follow_semitones, temperature, seed,
        batch_size, expected_value)
    distance = metrics.stft_distance(originals, resynthesis)
    identified = metrics.instrument_identification(
        profiles, [metrics.timbre_profile(note, rate) for note in resynthesis],
        pitches)
    scores = []
    for i, (name, pitch) in enumerate(zip(names, pitches)):
      track = f0(resynthesis[i], rate)
      label, ratio = metrics.partial(resynthesis[i], given[i], rate, track)
      scores.append(NoteScore(
          name, pitch, float(nll[i]), float(distance[i]),
          metrics.pitch_accuracy(originals[i], resynthesis[i], rate,
                                 reference_track=tracks[i],
                                 estimate_track=track),
          float(identified[i]), original_hnr[i],
          metrics.harmonic_to_noise_db(resynthesis[i], tracks[i][0], rate),
          label, ratio, float(follows[i]), float(follows_shifted[i])))
    results.append((scores, resynthesis))
  return results


def _follows(model, originals, codes, semitones, temperature, seed,
             batch_size, expected_value):
  """Per note, the shares of `semitones` whose moved pitch its resynthesis
  plays: from its unchanged code with the pitch moved, and from the note
  shifted there from the pitch its code was given
  (`codes.encode_shifted`); NaN for none."""
  if not semitones:
    return np.full((2, len(codes)), np.nan)
  column = model.config.bottleneck_width
  own = codes[:, 0, column]
  moved, shifted = [], []
  for shift in semitones:
    pitches = np.clip(own + shift, 0, model.config.pitch_classes - 1)
    recoded = codes.copy()
    recoded[..., column] = pitches[:, None]
    moved.append(_plays(model, recoded, pitches, temperature, seed,
                        batch_size, expected_value))
    shifted.append(_plays(
        model, np.concatenate([
            encode_shifted(model, note, [pitch], note_pitch)
            for note, pitch, note_pitch in zip(originals, pitches, own)]),
        pitches, temperature, seed, batch_size, expected_value))
  return np.mean(moved, axis=0), np.mean(shifted, axis=0)


def _plays(model, codes, pitches, temperature, seed, batch_size,
           expected_value):
  """Whether each resynthesis of `codes` plays its pitch of `pitches`
  (`metrics.partial`)."""
  audio = synthesize(model, codes, temperature=temperature, seed=seed,
                     batch_size=batch_size, expected_value=expected_value)
  return [metrics.partial(note, pitch, model.config.sample_rate)[0] ==
          metrics.ON_PITCH for note, pitch in zip(audio, pitches)]


def _mean(values):
  """The mean of the values that are not NaN; NaN when none is."""
  values = [value for value in values if not np.isnan(value)]
  return float(np.mean(values)) if values else float('nan')


def summary(scores):
  """Means of each measure over the notes (NaN values left out).

  Besides the notes' means: `identification`, among the notes that share
  their pitch with another, the share whose resynthesis is nearest to its
  own original, and `identification_chance`, that share for guessing (the
  mean of 1 / notes of the pitch); `hnr_gap_db`, the mean of the original's
  HNR less the resynthesis's; `locked`, the share of the notes that play a
  wrong partial, and `unvoiced`, of those that play no pitch; `follows`, the
  share of the resyntheses with a moved pitch that play it, and
  `follows_shifted`, of those from notes shifted to it.
  """
  counts = collections.Counter(s.pitch for s in scores)
  return {
      'notes': len(scores),
      'nll_bits': _mean([s.nll_bits for s in scores]),
      'stft_distance': _mean([s.stft_distance for s in scores]),
      'pitch_accuracy': _mean([s.pitch_accuracy for s in scores]),
      'identification': _mean([s.identified for s in scores]),
      'identification_chance': _mean([
          np.nan if np.isnan(s.identified) else 1 / counts[s.pitch]
          for s in scores]),
      'original_hnr_db': _mean([s.original_hnr_db for s in scores]),
      'hnr_db': _mean([s.hnr_db for s in scores]),
      'hnr_gap_db': _mean([s.hnr_gap_db for s in scores]),
      'locked': _mean([float(metrics.locked(s.partial)) for s in scores]),
      'unvoiced': _mean([float(s.partial == metrics.UNVOICED)
                         for s in scores]),
      'follows': _mean([s.follows for s in scores]),
      'follows_shifted': _mean([s.follows_shifted for s in scores]),
  }


def percent(share):
  """A share as a table cell: '12.5%', or '-' for NaN (nothing to share)."""
  return '-' if np.isnan(share) else f'{100 * share:.1f}%'
