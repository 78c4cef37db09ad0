"""Sample packs: playable instruments from mixed NSynth timbres.

As NSynth Super did, sounds are rendered offline and then played instantly:
2 sources give a line of `points` timbres (`mixing.interpolate`), 4 sources
a `points` x `points` bilinear grid (`mixing.grid`), and every grid point is
rendered at every MIDI pitch asked for. A pack folder holds

    manifest.json                         what was rendered, and how
    samples/p{row}_{col}_m{pitch:03d}.wav one note per grid point and pitch
    p{row}_{col}.sfz                      one SFZ instrument per grid point:
                                          each MIDI key 0..127 plays its
                                          nearest rendered pitch

Pitch: each source is shifted from its estimated pitch (`pitch.note_pitch`)
to each note's pitch (`pitch.shift_pitch`) and encoded there
(`codes.encode_shifted`), as NSynth Super prepared its sources; a
pitch-conditioned model (`config.pitch_classes` > 0) also hears the note's
pitch as the code's last channel. Code and pitch then agree: from a source's
own code with only that channel moved, the default model plays the moved
pitch far less often (`tools.compare_models --follow_semitones`). A
pitch-conditioned model's manifest says so (`shifted_sources`), so that a
pack begun before its sources were shifted is not completed with notes that
were.

Notes off their pitch: with `retry_off_pitch` a note that does not play its
pitch (a wrong partial, another pitch or none; `pitch_retry.plays_pitch`)
is generated again from its sources shifted a semitone or two further
(`pitch_retry.NEIGHBOURS`), mixed alike, then shifted back, as `generate
--retry_off_pitch` retries a single note (`pitch_retry.retry_moved`).

Resuming: the manifest is written first, each WAV atomically, the SFZ files
and the manifest's `complete` flag last; a rerun with the same settings
renders only the missing notes. The notes are generated in a fixed plan of
batches (`plan_batches`), each with a seed derived from the pack's seed and
the (row, col, pitch) of its notes (`batch_seed`), never from what is left
to do, so a resumed pack equals an uninterrupted one bit for bit.
`generation.synthesize` draws with one seed per batch, so a note's audio
also depends on the batch size: the manifest records it and a rerun must
keep it.
"""

import json
import logging
import os
import time

import numpy as np

from magenta_wavenet import mixing
from magenta_wavenet import pitch_retry
from magenta_wavenet.codes import encode_shifted
from magenta_wavenet.errors import AudioError
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.files import LOCAL
from magenta_wavenet.sound import pitch as pitch_lib
from magenta_wavenet.sound.audio import bundled_sound
from magenta_wavenet.sound.audio import load_audio
from magenta_wavenet.sound.audio import save_wav
from magenta_wavenet.sound.harmonics import harmonic_filter
from magenta_wavenet.synthesis import batch_choice
from magenta_wavenet.synthesis import generation
from magenta_wavenet.synthesis import litert

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: the model entry records decoder_weights
MANIFEST = 'manifest.json'
SAMPLES = 'samples'
DEFAULT_BATCH_SIZE = 16
SOURCE_COUNTS = (2, 4)


def note_samples(length, sample_rate):
  """A note length in samples.

  Args:
    length: An int of samples, or a string: seconds ending in 's' ('1s',
      '0.05s') or a whole number of samples ('24000').
    sample_rate: Hz.

  Returns:
    int >= 1, samples.

  Raises:
    MagentaWavenetError: for anything else, or a length under one sample.
  """
  text = str(length).strip()
  try:
    samples = (int(round(float(text[:-1]) * sample_rate))
               if text.endswith('s') else int(text))
  except (ValueError, OverflowError):
    samples = 0
  if samples < 1:
    raise MagentaWavenetError(
        f'note length {text!r}: give seconds ending in s (1s, 0.5s) or a '
        'whole number of samples (16000).')
  return samples


def check_pitches(pitches):
  """The distinct MIDI pitches of a pack, sorted.

  Args:
    pitches: ints or strings of ints ('60').

  Returns:
    Tuple of ints in [0, 127], ascending.

  Raises:
    MagentaWavenetError: when none is given or one is not an integer in
      0..127.
  """
  checked = set()
  for value in pitches:
    try:
      midi = int(str(value).strip())
    except ValueError:
      midi = -1
    if not 0 <= midi < pitch_lib.MIDI_KEYS:
      raise MagentaWavenetError(
          f'pitch {str(value).strip()!r} is not a MIDI note number in '
          f'0..{pitch_lib.MIDI_KEYS - 1}.')
    checked.add(midi)
  if not checked:
    raise MagentaWavenetError('give at least one MIDI pitch.')
  return tuple(sorted(checked))


def check_source_count(count):
  """Raises MagentaWavenetError unless `count` is 2 (a line) or 4 (a grid)."""
  if count not in SOURCE_COUNTS:
    raise MagentaWavenetError(
        f'need 2 source sounds (a line) or 4 (a grid), got {count}.')


def grid_weights(num_sources, points):
  """Mixing weights of each grid point.

  Args:
    num_sources: 2: a line of `points` points from the first source to the
      second; 4: a `points` x `points` bilinear grid with the sources at the
      corners top-left, top-right, bottom-left, bottom-right.
    points: Points per side, at least 2.

  Returns:
    float32 array [rows, cols, num_sources] (rows is 1 for a line); the
    weights of a point sum to 1. They are `mixing.interpolate` and
    `mixing.grid` applied to one-hot codes, so they are those of the codes.
  """
  check_source_count(num_sources)
  units = list(np.eye(num_sources, dtype=np.float32)[:, None])  # [1, n] each
  if num_sources == 2:
    return mixing.interpolate(units[0], units[1], points)[None, :, 0]
  return mixing.grid(units, points)[:, :, 0]


def sample_path(row, col, midi):
  """Path of a note's WAV inside a pack, '/'-separated (as SFZ wants)."""
  return f'{SAMPLES}/p{row}_{col}_m{midi:03d}.wav'


def sfz_name(row, col):
  """File name of a grid point's SFZ instrument."""
  return f'p{row}_{col}.sfz'


def plan_notes(rows, cols, pitches):
  """Every note of a pack, in its fixed order: row, then column, then pitch.

  Returns:
    List of (row, col, midi) tuples.
  """
  return [(row, col, midi) for row in range(rows) for col in range(cols)
          for midi in pitches]


def plan_batches(notes, batch_size):
  """The pack's notes cut into consecutive batches of `batch_size`.

  The plan depends only on the notes and the batch size, never on which
  notes are already rendered, so a resumed render generates the same
  batches as an uninterrupted one.
  """
  return [notes[start:start + batch_size]
          for start in range(0, len(notes), batch_size)]


def batches_with_codes(manifest, codes):
  """A pack's planned batches (`plan_batches` of `plan_notes`), each with
  its notes' codes.

  Args:
    manifest: The pack's manifest (`prepare_pack`).
    codes: {move: float32 [notes, frames, code_width] in `plan_notes`
      order}, from `prepare_pack`.

  Returns:
    List of (notes, {move: their codes [len(notes), frames, code_width]}):
    a batch's codes are the consecutive rows of its consecutive notes.
  """
  grid = manifest['grid']
  notes = plan_notes(grid['rows'], grid['cols'], manifest['pitches'])
  size = manifest['batch_size']
  return [(batch, {move: moved[start:start + len(batch)]
                   for move, moved in codes.items()})
          for start, batch in zip(range(0, len(notes), size),
                                  plan_batches(notes, size))]


def written(notes, save_path, files=LOCAL):
  """Whether each note's WAV is in the pack at `save_path` (in `files`)."""
  return [files.exists(files.join(save_path, sample_path(*note)))
          for note in notes]


def batch_seed(seed, notes):
  """The sampling seed of a batch, from the pack seed and its notes.

  Args:
    seed: The pack's seed, an int >= 0.
    notes: The batch's (row, col, midi) tuples.

  Returns:
    int in [0, 2**31).
  """
  entropy = [int(seed)] + [int(value) for note in notes for value in note]
  return int(np.random.SeedSequence(entropy).generate_state(1)[0] % 2**31)


def key_ranges(pitches):
  """SFZ key ranges mapping every MIDI key to its nearest rendered pitch.

  A key halfway between two rendered pitches plays the lower one.

  Args:
    pitches: Rendered MIDI pitches.

  Returns:
    List of (lokey, hikey, pitch_keycenter), ascending, covering 0..127
    with no gap or overlap.
  """
  pitches = check_pitches(pitches)
  ranges = []
  for index, midi in enumerate(pitches):
    low = ranges[-1][1] + 1 if ranges else 0
    high = (pitch_lib.MIDI_KEYS - 1 if index == len(pitches) - 1
            else (midi + pitches[index + 1]) // 2)
    ranges.append((low, high, midi))
  return ranges


def sfz_text(row, col, pitches, source_names, weights):
  """The SFZ instrument of one grid point.

  Args:
    row, col: The grid point.
    pitches: Its rendered MIDI pitches.
    source_names: Names of the sources, for the header comment.
    weights: The point's weight of each source.

  Returns:
    str: one `<region>` per rendered pitch, samples relative to the pack.
  """
  mix = ' + '.join(f'{float(weight):.3g} x {os.path.basename(name)}'
                   for name, weight in zip(source_names, weights))
  lines = [f'// magenta_wavenet sample pack, point ({row}, {col}): {mix}']
  lines += [f'<region> sample={sample_path(row, col, midi)} lokey={low} '
            f'hikey={high} pitch_keycenter={midi}'
            for low, high, midi in key_ranges(pitches)]
  return '\n'.join(lines) + '\n'


def fit_frames(codes, frames):
  """Cuts or pads codes [..., n, width] to `frames` frames.

  Padding repeats the last frame, so a source shorter than a note keeps
  its final timbre.

  Returns:
    float32 array [..., frames, width].
  """
  codes = np.asarray(codes, np.float32)[..., :frames, :]
  pad = [(0, 0)] * codes.ndim
  pad[-2] = (0, frames - codes.shape[-2])
  return np.pad(codes, pad, mode='edge')


def source_path(name, files=LOCAL):
  """The file of a source given as a path or a bundled sound's name.

  Returns:
    `name` when it exists (in `files`), else the bundled sound of that name
    ('nsynth_e5'), else `name` itself (reading it then says it is missing).
  """
  if files.exists(name):
    return name
  try:
    return bundled_sound(name)
  except AudioError:
    return name


def note_codes(model, sources, source_pitches, weights, pitches, frames,
               batch_size=DEFAULT_BATCH_SIZE):
  """The code of every note of a pack.

  Each source is cut to `frames` hops, shifted from its own pitch to each
  pitch and encoded there (`codes.encode_shifted`); its codes are cut or
  padded to `frames` (`fit_frames`) and mixed with each point's weights
  (`mixing.weighted_mix`). A pitch-conditioned model's mixed codes then
  get the note's pitch as their last channel.

  Args:
    model: An `NSynthAutoencoder`.
    sources: Source audio, float32 arrays [samples] at the model's rate.
    source_pitches: MIDI pitch of each source (`pitch.note_pitch`).
    weights: float32 [rows, cols, len(sources)], from `grid_weights`.
    pitches: P MIDI pitches, from `check_pitches`.
    frames: Code frames per note (hop_length samples each).
    batch_size: Most clips encoded at once.

  Returns:
    float32 array [rows, cols, P, frames, code_width].
  """
  config = model.config
  stacked = np.stack([  # [sources, P, frames, code_width]
      fit_frames(encode_shifted(
          model, np.asarray(audio, np.float32)[:frames * config.hop_length],
          pitches, own_pitch, batch_size), frames)
      for audio, own_pitch in zip(sources, source_pitches)])
  mixed = np.array([[[mixing.weighted_mix(stacked[:, index], point)
                      for index in range(len(pitches))]
                     for point in row] for row in weights], np.float32)
  if config.pitch_classes:
    mixed[..., -1] = np.asarray(pitches, np.float32)[:, None]
  return mixed


def pack_moves(manifest):
  """The semitone moves a pack's codes are made at: 0, then
  `pitch_retry.NEIGHBOURS` when its notes off their pitch are retried."""
  return (0,) + (pitch_retry.NEIGHBOURS
                 if manifest.get('retry_off_pitch') else ())


def moved_note_codes(model, sources, source_pitches, weights, pitches,
                     frames, moves, batch_size=DEFAULT_BATCH_SIZE):
  """`note_codes` at each pitch moved by each of `moves`, sources encoded
  once per distinct pitch.

  Args:
    moves: Semitone moves, 0 among them; a moved pitch outside MIDI 0-127
      is made at the nearest pitch inside (`pitch_retry.retry_moved` never
      tries it).
    Others: As for `note_codes`.

  Returns:
    {move: float32 [rows * cols * P, frames, code_width] in `plan_notes`
    order, told each pitch + move}.
  """
  last = pitch_lib.MIDI_KEYS - 1
  moved = {move: [min(max(midi + move, 0), last) for midi in pitches]
           for move in moves}
  wanted = sorted({midi for row in moved.values() for midi in row})
  codes = note_codes(model, sources, source_pitches, weights, wanted, frames,
                     batch_size)
  return {move: codes[:, :, [wanted.index(midi) for midi in row]].reshape(
      (-1,) + codes.shape[3:]) for move, row in moved.items()}


def make_manifest(source_names, paths, source_pitches, weights, pitches,
                  samples, model_name, config, seed, batch_size,
                  decoder_weights, harmonic_filter_db=0.0,
                  retry_off_pitch=False, expected_value=False):
  """The manifest of a pack, not yet complete.

  Args:
    source_names: The sources as given (paths or bundled names).
    paths: Their files.
    source_pitches: Their estimated MIDI pitches.
    weights: float32 [rows, cols, sources], from `grid_weights`.
    pitches: Rendered MIDI pitches, ascending.
    samples: Note length in samples.
    model_name: Name or path of the model.
    config: Its `WaveNetConfig`.
    seed: The pack's seed.
    batch_size: Notes generated at once.
    decoder_weights: The decoder's weight format ('float32', 'int8', ...).
    harmonic_filter_db: dB taken off between the harmonics of each note
      (`harmonics.harmonic_filter`); recorded only when not 0, so that the
      manifests of packs without it stay as they were.
    retry_off_pitch: Whether notes off their pitch are generated again
      from their sources moved (`render_batch`); recorded only when True.
    expected_value: Whether each note is its samples' expected values
      (`generation.synthesize`'s `expected_value`); recorded only when
      True.

  Returns:
    A dict ready for JSON, with `complete` False; `shifted_sources` True
    for a pitch-conditioned model (whose packs encoded each source unshifted
    before; a model without pitch always shifted them, and its manifests
    stay as they were).
  """
  rows, cols = weights.shape[:2]
  filtered = ({'harmonic_filter_db': float(harmonic_filter_db)}
              if harmonic_filter_db else {})
  shifted = {'shifted_sources': True} if config.pitch_classes else {}
  retried = {'retry_off_pitch': True} if retry_off_pitch else {}
  expected = {'expected_value': True} if expected_value else {}
  return {
      'format_version': FORMAT_VERSION,
      'complete': False,
      'sources': [{'name': name, 'path': os.path.abspath(path),
                   'pitch': int(midi)}
                  for name, path, midi in zip(source_names, paths,
                                              source_pitches)],
      'grid': {'rows': rows, 'cols': cols, 'points': [
          {'row': row, 'col': col,
           'weights': [float(w) for w in weights[row, col]],
           'sfz': sfz_name(row, col)}
          for row in range(rows) for col in range(cols)]},
      'pitches': list(pitches),
      'note_samples': samples,
      'note_seconds': samples / config.sample_rate,
      'sample_rate': config.sample_rate,
      'model': {'name': model_name, 'config': config.to_dict(),
                'decoder_weights': decoder_weights},
      'seed': seed,
      'batch_size': batch_size,
      'samples': [sample_path(*note)
                  for note in plan_notes(rows, cols, pitches)],
      **filtered,
      **shifted,
      **retried,
      **expected,
  }


def read_manifest(path, files=LOCAL):
  """A pack's manifest, checked to be one this version reads.

  Args:
    path: The `manifest.json`.
    files: Where it is (`files.LocalFiles`, or a distributed run's).

  Raises:
    MagentaWavenetError: naming the file, for unreadable JSON or another
      format.
  """
  try:
    manifest = json.loads(files.read_bytes(path).decode('utf-8'))
  except (ValueError, UnicodeDecodeError) as error:
    raise MagentaWavenetError(
        f'{path}: not a readable sample-pack manifest ({error}).') from None
  if not isinstance(manifest, dict) or manifest.get(
      'format_version') != FORMAT_VERSION:
    raise MagentaWavenetError(
        f'{path}: not a sample-pack manifest of format {FORMAT_VERSION}.')
  return manifest


def _write_manifest(path, manifest, files):
  files.write_bytes(path, (json.dumps(manifest, indent=2) + '\n').encode())


def _short(settings, key):
  """A setting as the refusal shows it: its JSON, shortened, or 'none'."""
  if key not in settings:
    return 'none'
  text = json.dumps(settings[key])
  return text if len(text) <= 60 else '...'


def _check_same(existing, manifest, path):
  """Raises unless `existing` has the settings of `manifest`.

  Every key of either but `complete` must be equal, once `manifest` is
  read back from JSON (a key only one has differs).
  """
  wanted = json.loads(json.dumps(manifest))
  for key in sorted(set(wanted) | set(existing)):
    if key != 'complete' and existing.get(key) != wanted.get(key):
      raise MagentaWavenetError(
          f'{path}: the pack there has another {key} '
          f'({_short(existing, key)} there, {_short(wanted, key)} now); use '
          'the same settings to complete it, or another folder.')


def prepare_pack(model, sources, save_path, points, pitches, note_length,
                 seed=None, batch_size=None, model_name=None,
                 decoder_weights=None, harmonic_filter_db=None,
                 retry_off_pitch=None, expected_value=None, files=LOCAL):
  """Checks a pack's settings, writes its manifest and makes its codes.

  The first half of `render_pack`, which a distributed run
  (`magenta_wavenet.beam.pack`) shares: everything before the notes are
  generated. Arguments as for `render_pack`, plus `files`, where
  `save_path` and the sources are (`files.LocalFiles`, or a distributed
  run's).

  Returns:
    (the manifest, a dict with `complete` False, as written to
    `manifest.json`; {move: float32 codes [notes, frames, code_width] in
    `plan_notes` order} for each of `pack_moves`).

  Raises:
    MagentaWavenetError: as `render_pack`.
  """
  config = model.config
  pitches = check_pitches(pitches)
  samples = note_samples(note_length, config.sample_rate)
  frames = -(-samples // config.hop_length)
  weights = grid_weights(len(sources), points)
  paths = [source_path(name, files) for name in sources]
  audio = []
  for path in paths:
    with files.local_copy(path) as local:
      audio.append(load_audio(local, config.sample_rate,
                              min_samples=config.hop_length))
  source_pitches = [pitch_lib.note_pitch(clip, config.sample_rate, path)
                    for clip, path in zip(audio, paths)]
  manifest_path = files.join(save_path, MANIFEST)
  existing = (read_manifest(manifest_path, files)
              if files.exists(manifest_path) else {})
  if seed is None:
    seed = existing.get('seed')
  if seed is None:
    seed = int(np.random.SeedSequence().entropy % 2**31)
    logger.info('Seed %d.', seed)
  if batch_size is None:
    batch_size = existing.get('batch_size') or DEFAULT_BATCH_SIZE
  if decoder_weights is None:
    decoder_weights = existing.get('model', {}).get('decoder_weights')
  if decoder_weights is None:
    decoder_weights, why = batch_choice.best_format(config, int(batch_size))
    logger.info('Decoder weights %s: %s.', decoder_weights, why)
  litert.check_weight_format(decoder_weights)
  if harmonic_filter_db is None:
    harmonic_filter_db = existing.get('harmonic_filter_db', 0.0)
  if isinstance(harmonic_filter_db, bool) or not isinstance(
      harmonic_filter_db, (int, float)) or not harmonic_filter_db >= 0:
    raise MagentaWavenetError(
        f'the harmonic filter takes 0 dB or more, got {harmonic_filter_db}.')
  if retry_off_pitch is None:
    retry_off_pitch = existing.get('retry_off_pitch', False)
  if not isinstance(retry_off_pitch, bool):
    raise MagentaWavenetError(
        f'retry_off_pitch must be true or false, got {retry_off_pitch!r}.')
  if expected_value is None:
    expected_value = existing.get('expected_value', False)
  if not isinstance(expected_value, bool):
    raise MagentaWavenetError(
        f'expected_value must be true or false, got {expected_value!r}.')
  if int(seed) < 0 or int(batch_size) < 1:
    raise MagentaWavenetError(f'seed must be >= 0 and batch size >= 1, got '
                              f'{seed} and {batch_size}.')
  manifest = make_manifest(list(sources), paths, source_pitches, weights,
                           pitches, samples, model_name or config.name,
                           config, int(seed), int(batch_size),
                           decoder_weights, harmonic_filter_db,
                           retry_off_pitch, expected_value)
  files.makedirs(files.join(save_path, SAMPLES))
  if existing:
    _check_same(existing, manifest, manifest_path)
  else:
    _write_manifest(manifest_path, manifest, files)
  return manifest, moved_note_codes(
      model, audio, source_pitches, weights, pitches, frames,
      pack_moves(manifest), manifest['batch_size'])


def render_batch(model, notes, codes, manifest, save_path, files=LOCAL,
                 progress=None):
  """Generates one planned batch of a pack and writes its missing WAVs.

  Args:
    model: An `NSynthAutoencoder`.
    notes: The batch's (row, col, midi) tuples, one of `plan_batches`.
    codes: {move: float32 [len(notes), frames, code_width]}, the notes'
      codes at each of `pack_moves` (`batches_with_codes`).
    manifest: The pack's manifest (`prepare_pack`).
    save_path: The pack's folder.
    files: Where it is (`files.LocalFiles`, or a distributed run's).
    progress: Passed to `generation.synthesize` (within the batch).

  Returns:
    The notes written now: none when every WAV of the batch was there.
  """
  there = written(notes, save_path, files)
  if all(there):
    return []
  seed = batch_seed(manifest['seed'], notes)

  def generate(batch_codes, rows=None, progress=None):
    del rows  # every note of a pack has its length
    return generation.synthesize(
        model, batch_codes, seed=seed,
        lengths=[manifest['note_samples']] * len(batch_codes),
        progress=progress, weights=manifest['model']['decoder_weights'],
        expected_value=manifest.get('expected_value', False))

  audio = generate(codes[0], progress=progress)
  if manifest.get('retry_off_pitch'):
    audio = _retried(notes, audio, generate, codes, save_path,
                     manifest['sample_rate'])
  for note, row, was_there in zip(notes, audio, there):
    if not was_there:
      save_wav(files.join(save_path, sample_path(*note)),
               harmonic_filter(row, manifest.get('harmonic_filter_db', 0.0),
                               manifest['sample_rate']),
               manifest['sample_rate'], files)
  return [note for note, was_there in zip(notes, there) if not was_there]


def _retried(notes, audio, generate, codes, save_path, sample_rate):
  """A batch's notes after `pitch_retry.retry_moved`, every note of the
  batch judged (so that a resumed batch retries as an uninterrupted one);
  each note moved is logged (`pitch_retry.log_moves`)."""
  kept, moves = pitch_retry.retry_moved(
      [midi for _, _, midi in notes], audio, generate,
      lambda rows, move: codes[move][rows], sample_rate)
  pitch_retry.log_moves([f'{save_path}: {sample_path(*note)}'
                         for note in notes], moves, 'its sources')
  return kept


def finish_pack(manifest, save_path, files=LOCAL):
  """Writes a pack's SFZ instruments, then marks its manifest complete.

  The last step of `render_pack`, once every note is written.

  Args:
    manifest: The pack's manifest (`prepare_pack`); set complete here.
    save_path: The pack's folder.
    files: Where it is (`files.LocalFiles`, or a distributed run's).

  Returns:
    The complete manifest.
  """
  names = [source['name'] for source in manifest['sources']]
  for point in manifest['grid']['points']:
    files.write_bytes(files.join(save_path, point['sfz']), sfz_text(
        point['row'], point['col'], manifest['pitches'], names,
        point['weights']).encode())
  manifest['complete'] = True
  _write_manifest(files.join(save_path, MANIFEST), manifest, files)
  logger.info('Sample pack %s complete: %d notes, %d SFZ instruments.',
              save_path, len(manifest['samples']),
              len(manifest['grid']['points']))
  return manifest


def render_pack(model, sources, save_path, points, pitches, note_length,
                seed=None, batch_size=None, model_name=None, progress=None,
                on_batch=None, decoder_weights=None, harmonic_filter_db=None,
                retry_off_pitch=None, expected_value=None):
  """Renders a sample pack into `save_path`, or completes one there.

  `prepare_pack`, then each missing batch of `plan_batches` by
  `render_batch`, then `finish_pack`.

  Args:
    model: An `NSynthAutoencoder`.
    sources: 2 or 4 audio files or bundled sound names ('nsynth_e5').
    save_path: The pack's folder (created). One holding an unfinished pack
      with the same settings is completed.
    points: Grid points per side, at least 2.
    pitches: MIDI pitches to render, integers in 0..127.
    note_length: Note length, as `note_samples` reads it (16000 or '1s').
    seed: int >= 0; None takes the existing pack's, or picks one.
    batch_size: Notes generated at once; None takes the existing pack's, or
      `DEFAULT_BATCH_SIZE`.
    model_name: The model's name or path for the manifest; default
      `model.config.name`.
    progress: Passed to `generation.synthesize` (within a batch).
    on_batch: Called as on_batch(notes_done, notes_total) after each batch
      is written, and first with the notes a resumed pack already has.
    decoder_weights: How the decoder's weights are stored while generating
      ('float32', 'float16' or 'int8', `generation.Synthesizer`); None takes
      the existing pack's, or the fastest for the model and batch size
      on this machine (`batch_choice.best_format`).
    harmonic_filter_db: dB taken off the noise between the harmonics of
      each note as it is written (`harmonics.harmonic_filter`, >= 0); None
      takes the existing pack's, or 0 (the notes as generated).
    retry_off_pitch: Whether a note that does not play its pitch is
      generated again from its sources moved a semitone or two, then moved
      back (the module's docstring); None takes the existing pack's, or
      False. Each retry costs one more generation of the note.
    expected_value: Whether each note is written as its samples' expected
      values (`generation.synthesize`'s `expected_value`); None takes the
      existing pack's, or False (the draws).

  Returns:
    The complete manifest (a dict, as in `manifest.json`).

  Raises:
    MagentaWavenetError: naming the file or setting at fault: a source that
      is missing, not audio or shorter than one hop, a wrong number of
      sources, a bad pitch or length, or a pack there with other settings.
  """
  manifest, codes = prepare_pack(
      model, sources, save_path, points, pitches, note_length, seed=seed,
      batch_size=batch_size, model_name=model_name,
      decoder_weights=decoder_weights, harmonic_filter_db=harmonic_filter_db,
      retry_off_pitch=retry_off_pitch, expected_value=expected_value)
  _render_notes(model, codes, manifest, save_path, progress, on_batch)
  return finish_pack(manifest, save_path)


def _render_notes(model, codes, manifest, save_path, progress, on_batch):
  """Generates and writes the pack's missing WAVs, batch by batch.

  Args:
    codes: {move: float32 [notes, frames, code_width] in `plan_notes`
      order}, from `prepare_pack`.
  """
  batches = batches_with_codes(manifest, codes)
  total = sum(len(batch) for batch, _ in batches)
  todo = [(batch, batch_codes) for batch, batch_codes in batches
          if not all(written(batch, save_path))]
  done = total - sum(len(batch) for batch, _ in todo)
  if done:
    logger.info('%s: %d of %d notes already rendered.', save_path, done,
                total)
    if on_batch:
      on_batch(done, total)
  started, rendered = time.monotonic(), 0
  for number, (batch, batch_codes) in enumerate(todo, 1):
    render_batch(model, batch, batch_codes, manifest, save_path,
                 progress=progress)
    rendered += len(batch)
    done += len(batch)
    per_note = (time.monotonic() - started) / rendered
    logger.info('Batch %d of %d written: %d of %d notes, %.2f s per note, '
                '%.0f s left.', number, len(todo), done, total,
                per_note, per_note * (total - done))
    if on_batch:
      on_batch(done, total)
