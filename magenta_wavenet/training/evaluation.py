"""Evaluating a model on held-out NSynth notes by resynthesizing them."""

import dataclasses

import numpy as np

from magenta_wavenet import dsp
from magenta_wavenet.data import reader
from magenta_wavenet.data import schema
from magenta_wavenet.errors import DataError
from magenta_wavenet.generation import synthesize
from magenta_wavenet.pitch import f0
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
  """

  note_str: str
  pitch: int
  nll_bits: float
  stft_distance: float
  pitch_accuracy: float


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
             batch_size=None):
  """Resynthesizes notes from their codes and scores each.

  Args:
    model: An `NSynthAutoencoder`.
    audio: float32 [notes, samples] originals.
    names, pitches: Their NSynth names and MIDI pitches.
    temperature, seed: Sampling of `generation.synthesize`.
    batch_size: Notes generated at once (default all).

  A pitch-conditioned model hears the pitch pYIN estimates from each
  original, as when a user encodes a sound, not the label.

  Returns:
    (list of `NoteScore`, resynthesized audio [notes, trimmed samples]).
  """
  return evaluate_seeds(model, audio, names, pitches, temperature, (seed,),
                        batch_size)[0]


def evaluate_seeds(model, audio, names, pitches, temperature=1.0,
                   seeds=(0,), batch_size=None):
  """`evaluate` with each of several sampling seeds; what does not depend on
  the seed (the codes, the NLL, the originals' pYIN tracks) is computed
  once.

  Returns:
    One (list of `NoteScore`, resynthesized audio) per seed, in order.
  """
  length = dsp.trimmed_length(audio.shape[1], model.config.hop_length)
  originals = np.asarray(audio[:, :length], np.float32)
  codes = model.encode(originals).numpy()
  nll = metrics.nll_bits(model, originals, codes)
  rate = model.config.sample_rate
  tracks = [f0(original, rate) for original in originals]
  results = []
  for seed in seeds:
    resynthesis = synthesize(model, codes, temperature=temperature,
                             seed=seed, batch_size=batch_size)
    distance = metrics.stft_distance(originals, resynthesis)
    scores = [
        NoteScore(name, pitch, float(nll[i]), float(distance[i]),
                  metrics.pitch_accuracy(originals[i], resynthesis[i], rate,
                                         reference_track=tracks[i]))
        for i, (name, pitch) in enumerate(zip(names, pitches))]
    results.append((scores, resynthesis))
  return results


def summary(scores):
  """Means of each measure over the notes (NaN pitch accuracies left out)."""
  accuracies = [s.pitch_accuracy for s in scores
                if not np.isnan(s.pitch_accuracy)]
  return {
      'notes': len(scores),
      'nll_bits': float(np.mean([s.nll_bits for s in scores])),
      'stft_distance': float(np.mean([s.stft_distance for s in scores])),
      'pitch_accuracy': (float(np.mean(accuracies)) if accuracies
                         else float('nan')),
  }
