"""Generates audio files from audio or code files, in batches, resumably.

Each input (an audio file, encoded first, or a `.npy` code) gives one WAV
of at most `sample_length` samples at 16 kHz. An audio file that was
raised to the model's level to be encoded (`codes.encode_at_level`) is
lowered back, so its resynthesis is as loud as it; a code plays at the
model's level. While generating, the audio so far is rewritten every
`save_every` samples to the output's partial file (`partial_path`), which
survives a crash or Ctrl-C; the finished file replaces it. `resume=True`
primes the model with those partial files by teacher forcing, so with the
same seed the result equals an uninterrupted run.
"""

import logging
import math
import os

import numpy as np

from magenta_wavenet import pitch_retry
from magenta_wavenet.codes import at_level
from magenta_wavenet.codes import encode_files
from magenta_wavenet.codes import load_code
from magenta_wavenet.codes import reported
from magenta_wavenet.codes import stack_padded
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.sound.audio import load_audio
from magenta_wavenet.sound.audio import save_wav
from magenta_wavenet.sound.harmonics import harmonic_filter
from magenta_wavenet.sound.pitch import check_model_pitch
from magenta_wavenet.sound.pitch import note_pitch
from magenta_wavenet.synthesis import generation

logger = logging.getLogger(__name__)


def _codes(model, paths, use_npy, sample_length, on_error, pitch):
  """(path, code, audio as encoded or None for a code) for the inputs that
  load; failures go to `on_error`."""
  if not use_npy:
    return [(path, code, audio) for path, audio, code
            in encode_files(model, paths, sample_length, on_error, pitch)]
  codes = []
  for path in paths:
    with reported(path, on_error):
      codes.append((path, load_code(path, model.config, pitch), None))
  return codes


def _played_pitches(model, items):
  """The MIDI pitch each input's output should play: its code's pitch
  channel, or for a model without pitch its audio's pYIN pitch."""
  if model.config.pitch_classes:
    return [float(code[0, -1]) for _, code, _ in items]
  return [note_pitch(audio, model.config.sample_rate, path)
          for path, _, audio in items]


def _gain(model, original):
  """How much `codes.encode_at_level` raised an input: 1 for a code."""
  return 1.0 if original is None else float(at_level(model, original)[1])


def partial_path(output):
  """Where the audio so far of `output` (gen_<stem>.wav) is kept."""
  return output[:-len('.wav')] + '.partial.wav'


def _partial_writer(outputs, lengths, save_every):
  """on_chunk callback rewriting each partial WAV once per `save_every`
  samples."""
  written = [0]

  def on_chunk(audio, done):
    if save_every and done // save_every > written[0] // save_every:
      written[0] = done
      for output, length, row in zip(outputs, lengths, audio):
        save_wav(partial_path(output), row[:min(done, length)])
      logger.info('Saved %d samples so far.', done)
  return on_chunk


def _resume_prime(outputs, lengths):
  """Audio [batch, samples] to prime with: the partial WAVs of this batch,
  cut to the shortest; None when any of them is missing."""
  paths = [partial_path(output) for output in outputs]
  if not all(os.path.isfile(path) for path in paths):
    return None
  partials = [load_audio(path) for path in paths]
  usable = min([len(p) for p in partials] + [n - 1 for n in lengths])
  if usable < 1:
    return None
  logger.info('Resuming %s from sample %d.', ', '.join(outputs), usable)
  return np.stack([p[:usable] for p in partials])


def generate_files(model, paths, outputs, sample_length, batch_size=1,
                   use_npy=False, temperature=1.0, seed=None,
                   save_every=10000, resume=False, progress=None,
                   on_error=None, on_saved=None, weights='float32',
                   pitch=None, harmonic_filter_db=0.0, retry_off_pitch=False,
                   expected_value=False):
  """Generates a WAV for each input, `batch_size` inputs at a time.

  Args:
    model: An `NSynthAutoencoder`.
    paths: Audio files, or `.npy` codes when `use_npy`.
    outputs: dict {path: `.wav` file to write its audio to}.
    sample_length: Most samples generated per file (16 kHz), at least one
      hop; longer codes and audio are cut.
    batch_size: Inputs generated together.
    use_npy: Whether `paths` are codes rather than audio.
    temperature: Softmax temperature; 0 takes the most likely sample.
    seed: Random seed; the same seed gives the same audio.
    save_every: Rewrite the partial WAVs after about this many samples (at
      the next chunk end); 0: only at the end.
    resume: Prime each batch with its partial WAVs, when all are there.
    progress: `progress` of `generation.synthesize`.
    on_error: Function (path, error) for inputs that fail; None raises.
    on_saved: Function (path, output) called after each WAV is written.
    weights: 'float32', 'float16' or 'int8' (`generation.Synthesizer`).
    pitch: For a pitch-conditioned model, the MIDI pitch to play every
      input at (`codes.fit_code`: appended to a code without one, or
      replacing its own; audio is shifted to it, then encoded
      (`codes.encode_files`)). None: each input's own.
    harmonic_filter_db: Attenuation between the harmonics of each finished
      output (`harmonics.harmonic_filter`); the partial files stay as
      generated, so that `resume` primes with the model's own samples. 0:
      none.
    retry_off_pitch: Audio inputs only: an output that plays its input's
      pitch on less than `pitch_retry.KEPT_SHARE` of the input's voiced
      frames is generated again from the input moved a semitone or two,
      then moved back, and the one that plays it most is written
      (`pitch_retry.retry_off_pitch`).
    expected_value: Write each sample's expected value under the
      distribution it was drawn from (`generation.synthesize`'s
      `expected_value`); the partial files stay the draws, so that `resume`
      primes with them.

  Returns:
    List of the paths whose audio was saved.

  Raises:
    CodeError: at once, for a pitch the model cannot take.
    MagentaWavenetError: at once, for `retry_off_pitch` with codes.
  """
  check_model_pitch(model.config, pitch)
  if retry_off_pitch and use_npy:
    raise MagentaWavenetError(
        'retrying off-pitch notes needs the audio: it moves the input '
        'notes, and a code cannot be moved.')
  hop = model.config.hop_length
  frames_wanted = math.ceil(sample_length / hop)
  saved = []
  # One synthesizer for all batches: batches of equal shape reuse its
  # compiled loop.
  synthesizer = generation.Synthesizer(model, weights)
  for start in range(0, len(paths), batch_size):
    items = _codes(model, paths[start:start + batch_size], use_npy,
                   sample_length, on_error, pitch)
    if not items:
      continue
    codes = [code[:frames_wanted] for _, code, _ in items]
    lengths = [min(sample_length, len(code) * hop) for code in codes]
    padded = stack_padded(codes)
    names = [outputs[path] for path, _, _ in items]
    logger.info('Batch %d: generating %s samples for %s.',
                start // batch_size + 1, max(lengths), ', '.join(
                    path for path, _, _ in items))
    audio = synthesizer.generate(
        padded, temperature=temperature, seed=seed, lengths=lengths,
        prime=_resume_prime(names, lengths) if resume else None,
        progress=progress,
        on_chunk=_partial_writer(names, lengths, save_every),
        expected_value=expected_value)
    audio = [row[:length] for row, length in zip(audio, lengths)]
    if retry_off_pitch:
      audio = _retried(model, synthesizer, items, audio, lengths,
                       temperature, seed, expected_value)
    audio = [row / _gain(model, original) for row, (_, _, original)
             in zip(audio, items)]
    for (path, _, _), name, row in zip(items, names, audio):
      with reported(path, on_error):
        save_wav(name, harmonic_filter(row, harmonic_filter_db,
                                       model.config.sample_rate))
        if os.path.exists(partial_path(name)):
          os.remove(partial_path(name))
        if on_saved:
          on_saved(path, name)
        saved.append(path)
  return saved


def _retried(model, synthesizer, items, audio, lengths, temperature, seed,
             expected_value):
  """A batch's outputs after `pitch_retry.retry_off_pitch`; each move is
  logged (`pitch_retry.log_moves`)."""
  def generate(codes, rows):
    return synthesizer.generate(codes, temperature=temperature, seed=seed,
                                lengths=[lengths[row] for row in rows],
                                expected_value=expected_value)

  kept, moves = pitch_retry.retry_off_pitch(
      model, [original for _, _, original in items],
      _played_pitches(model, items), audio, generate)
  pitch_retry.log_moves([path for path, _, _ in items], moves, 'the note')
  return kept
