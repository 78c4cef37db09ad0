"""Rendering NSynth-style notes from a SoundFont with the FluidSynth program.

Each note is held 3 s and released for 1 s at 16 kHz, like NSynth's. Notes of
one General MIDI program are rendered in one FluidSynth run from a Standard
MIDI File written here, one note per 5 s slot (the extra second lets long
releases die out before the next note), reverb and chorus off.
"""

import dataclasses
import os
import shutil
import struct
import subprocess
import tempfile

import numpy as np

from magenta_wavenet.data import schema
from magenta_wavenet.errors import DataError
from magenta_wavenet.sound import dsp
from magenta_wavenet.sound.audio import load_audio

DEFAULT_SOUNDFONT = '/usr/share/sounds/sf2/FluidR3_GM.sf2'
HOLD_MS = 3000
NOTE_MS = 4000
SLOT_MS = 5000
_TICKS_PER_BEAT = 1000
_MICROSECONDS_PER_BEAT = 1000000  # so one tick is one millisecond


@dataclasses.dataclass(frozen=True)
class Program:
  """A General MIDI program mapped to an NSynth family and source.

  Attributes:
    number: GM program, 0..127 (0 is Acoustic Grand Piano).
    family: NSynth family name.
    source: NSynth source name.
    lowest: Lowest MIDI pitch the instrument plays.
    highest: Highest MIDI pitch.
  """

  number: int
  family: str
  source: str
  lowest: int
  highest: int

  @property
  def instrument_str(self):
    return f'{self.family}_{self.source}_{self.number:03d}'


# Every melodic General MIDI program (0-based numbers), with the NSynth
# family and source it belongs to and the pitches it plays. Left out, as
# they have no steady pitch of their own: timpani (47), orchestra hit (55),
# fifths lead (86, two pitches at once), the effects (96-103) and the
# percussion (113, 115-127). NSynth has no pad family; the pads (88-95) are
# synth leads here.
GM_PROGRAMS = {p.number: p for p in (
    Program(0, 'keyboard', 'acoustic', 21, 108),     # Acoustic Grand Piano
    Program(1, 'keyboard', 'acoustic', 21, 108),     # Bright Acoustic Piano
    Program(2, 'keyboard', 'electronic', 21, 108),   # Electric Grand Piano
    Program(3, 'keyboard', 'acoustic', 21, 108),     # Honky-tonk Piano
    Program(4, 'keyboard', 'electronic', 28, 103),   # Electric Piano 1
    Program(5, 'keyboard', 'electronic', 28, 103),   # Electric Piano 2
    Program(6, 'keyboard', 'acoustic', 29, 89),      # Harpsichord
    Program(7, 'keyboard', 'electronic', 29, 89),    # Clavinet
    Program(8, 'keyboard', 'acoustic', 60, 108),     # Celesta
    Program(9, 'mallet', 'acoustic', 79, 108),       # Glockenspiel
    Program(10, 'mallet', 'acoustic', 60, 96),       # Music Box
    Program(11, 'mallet', 'acoustic', 53, 89),       # Vibraphone
    Program(12, 'mallet', 'acoustic', 45, 96),       # Marimba
    Program(13, 'mallet', 'acoustic', 65, 108),      # Xylophone
    Program(14, 'mallet', 'acoustic', 60, 77),       # Tubular Bells
    Program(15, 'mallet', 'acoustic', 48, 88),       # Dulcimer
    Program(16, 'organ', 'electronic', 36, 96),      # Drawbar Organ
    Program(17, 'organ', 'electronic', 36, 96),      # Percussive Organ
    Program(18, 'organ', 'electronic', 36, 96),      # Rock Organ
    Program(19, 'organ', 'acoustic', 24, 96),        # Church Organ
    Program(20, 'organ', 'acoustic', 36, 96),        # Reed Organ
    Program(21, 'reed', 'acoustic', 53, 89),         # Accordion
    Program(22, 'reed', 'acoustic', 60, 84),         # Harmonica
    Program(23, 'reed', 'acoustic', 53, 89),         # Tango Accordion
    Program(24, 'guitar', 'acoustic', 40, 84),       # Nylon Guitar
    Program(25, 'guitar', 'acoustic', 40, 84),       # Steel Guitar
    Program(26, 'guitar', 'electronic', 40, 86),     # Jazz Electric Guitar
    Program(27, 'guitar', 'electronic', 40, 86),     # Clean Electric Guitar
    Program(28, 'guitar', 'electronic', 40, 86),     # Muted Electric Guitar
    Program(29, 'guitar', 'electronic', 40, 86),     # Overdriven Guitar
    Program(30, 'guitar', 'electronic', 40, 86),     # Distortion Guitar
    Program(31, 'guitar', 'electronic', 40, 86),     # Guitar Harmonics
    Program(32, 'bass', 'acoustic', 28, 67),         # Acoustic Bass
    Program(33, 'bass', 'electronic', 28, 67),       # Fingered Electric Bass
    Program(34, 'bass', 'electronic', 28, 67),       # Picked Electric Bass
    Program(35, 'bass', 'electronic', 28, 67),       # Fretless Bass
    Program(36, 'bass', 'electronic', 28, 67),       # Slap Bass 1
    Program(37, 'bass', 'electronic', 28, 67),       # Slap Bass 2
    Program(38, 'bass', 'synthetic', 24, 72),        # Synth Bass 1
    Program(39, 'bass', 'synthetic', 24, 72),        # Synth Bass 2
    Program(40, 'string', 'acoustic', 55, 103),      # Violin
    Program(41, 'string', 'acoustic', 48, 91),       # Viola
    Program(42, 'string', 'acoustic', 36, 76),       # Cello
    Program(43, 'string', 'acoustic', 28, 67),       # Contrabass
    Program(44, 'string', 'acoustic', 28, 96),       # Tremolo Strings
    Program(45, 'string', 'acoustic', 28, 96),       # Pizzicato Strings
    Program(46, 'string', 'acoustic', 23, 103),      # Orchestral Harp
    Program(48, 'string', 'acoustic', 28, 96),       # String Ensemble 1
    Program(49, 'string', 'acoustic', 28, 96),       # String Ensemble 2
    Program(50, 'string', 'synthetic', 36, 96),      # Synth Strings 1
    Program(51, 'string', 'synthetic', 36, 96),      # Synth Strings 2
    Program(52, 'vocal', 'acoustic', 48, 79),        # Choir Aahs
    Program(53, 'vocal', 'acoustic', 48, 79),        # Voice Oohs
    Program(54, 'vocal', 'synthetic', 48, 84),       # Synth Voice
    Program(56, 'brass', 'acoustic', 52, 84),        # Trumpet
    Program(57, 'brass', 'acoustic', 40, 72),        # Trombone
    Program(58, 'brass', 'acoustic', 28, 58),        # Tuba
    Program(59, 'brass', 'acoustic', 52, 82),        # Muted Trumpet
    Program(60, 'brass', 'acoustic', 34, 77),        # French Horn
    Program(61, 'brass', 'acoustic', 36, 84),        # Brass Section
    Program(62, 'brass', 'synthetic', 36, 96),       # Synth Brass 1
    Program(63, 'brass', 'synthetic', 36, 96),       # Synth Brass 2
    Program(64, 'reed', 'acoustic', 56, 87),         # Soprano Sax
    Program(65, 'reed', 'acoustic', 49, 81),         # Alto Sax
    Program(66, 'reed', 'acoustic', 44, 75),         # Tenor Sax
    Program(67, 'reed', 'acoustic', 36, 69),         # Baritone Sax
    Program(68, 'reed', 'acoustic', 58, 91),         # Oboe
    Program(69, 'reed', 'acoustic', 52, 81),         # English Horn
    Program(70, 'reed', 'acoustic', 34, 72),         # Bassoon
    Program(71, 'reed', 'acoustic', 50, 94),         # Clarinet
    Program(72, 'flute', 'acoustic', 74, 108),       # Piccolo
    Program(73, 'flute', 'acoustic', 60, 96),        # Flute
    Program(74, 'flute', 'acoustic', 60, 96),        # Recorder
    Program(75, 'flute', 'acoustic', 60, 96),        # Pan Flute
    Program(76, 'flute', 'acoustic', 60, 96),        # Blown Bottle
    Program(77, 'flute', 'acoustic', 55, 84),        # Shakuhachi
    Program(78, 'flute', 'acoustic', 60, 96),        # Whistle
    Program(79, 'flute', 'acoustic', 60, 84),        # Ocarina
    Program(80, 'synth_lead', 'synthetic', 36, 96),  # Square Lead
    Program(81, 'synth_lead', 'synthetic', 36, 96),  # Sawtooth Lead
    Program(82, 'synth_lead', 'synthetic', 36, 96),  # Calliope Lead
    Program(83, 'synth_lead', 'synthetic', 36, 96),  # Chiff Lead
    Program(84, 'synth_lead', 'synthetic', 36, 96),  # Charang Lead
    Program(85, 'synth_lead', 'synthetic', 36, 96),  # Voice Lead
    Program(87, 'synth_lead', 'synthetic', 36, 96),  # Bass + Lead
    Program(88, 'synth_lead', 'synthetic', 36, 96),  # New Age Pad
    Program(89, 'synth_lead', 'synthetic', 36, 96),  # Warm Pad
    Program(90, 'synth_lead', 'synthetic', 36, 96),  # Polysynth Pad
    Program(91, 'vocal', 'synthetic', 48, 84),       # Choir Pad
    Program(92, 'synth_lead', 'synthetic', 36, 96),  # Bowed Pad
    Program(93, 'synth_lead', 'synthetic', 36, 96),  # Metallic Pad
    Program(94, 'synth_lead', 'synthetic', 36, 96),  # Halo Pad
    Program(95, 'synth_lead', 'synthetic', 36, 96),  # Sweep Pad
    Program(104, 'guitar', 'acoustic', 48, 77),      # Sitar
    Program(105, 'guitar', 'acoustic', 48, 84),      # Banjo
    Program(106, 'guitar', 'acoustic', 50, 79),      # Shamisen
    Program(107, 'guitar', 'acoustic', 55, 84),      # Koto
    Program(108, 'mallet', 'acoustic', 48, 84),      # Kalimba
    Program(109, 'reed', 'acoustic', 58, 77),        # Bagpipe
    Program(110, 'string', 'acoustic', 55, 96),      # Fiddle
    Program(111, 'reed', 'acoustic', 60, 84),        # Shanai
    Program(112, 'mallet', 'acoustic', 72, 96),      # Tinkle Bell
    Program(114, 'mallet', 'acoustic', 52, 76),      # Steel Drums
)}


def fluidsynth_path():
  """Path of the `fluidsynth` program, or None when it is not installed."""
  return shutil.which('fluidsynth')


def _variable_length(value):
  out = [value & 0x7F]
  value >>= 7
  while value:
    out.append((value & 0x7F) | 0x80)
    value >>= 7
  return bytes(reversed(out))


def midi_file(program, notes):
  """A Standard MIDI File playing `notes` one per 5 s slot on channel 0.

  Args:
    program: GM program number, 0..127.
    notes: Sequence of (pitch, velocity).

  Returns:
    The file's bytes (format 0, one tick = 1 ms).
  """
  events = _variable_length(0) + b'\xff\x51\x03' + (
      _MICROSECONDS_PER_BEAT.to_bytes(3, 'big'))
  events += _variable_length(0) + bytes([0xC0, program])
  for index, (pitch, velocity) in enumerate(notes):
    gap = 0 if index == 0 else SLOT_MS - HOLD_MS
    events += _variable_length(gap) + bytes([0x90, pitch, velocity])
    events += _variable_length(HOLD_MS) + bytes([0x80, pitch, 0])
  events += _variable_length(SLOT_MS - HOLD_MS) + b'\xff\x2f\x00'
  header = b'MThd' + struct.pack('>IHHH', 6, 0, 1, _TICKS_PER_BEAT)
  return header + b'MTrk' + struct.pack('>I', len(events)) + events


def render_notes(program, notes, soundfont=DEFAULT_SOUNDFONT, gain=0.5,
                 normalize=True):
  """Renders notes of one GM program with FluidSynth.

  Args:
    program: GM program number.
    notes: Sequence of (pitch, velocity).
    soundfont: Path of the .sf2 file.
    gain: FluidSynth's master gain.
    normalize: Scale each note so its peak is `dsp.NOTE_PEAK` (NSynth's
      notes use the full range); silent notes (`dsp.SILENT_PEAK`) are left
      as they are.

  Returns:
    float32 array [len(notes), 64000], 16 kHz mono.

  Raises:
    DataError: when FluidSynth or the SoundFont is missing or the render
      fails.
  """
  binary = fluidsynth_path()
  if binary is None:
    raise DataError('fluidsynth is not installed (Debian: apt-get install '
                    'fluidsynth fluid-soundfont-gm).')
  if not os.path.isfile(soundfont):
    raise DataError(f'{soundfont}: no such SoundFont.')
  with tempfile.TemporaryDirectory() as folder:
    midi_path = os.path.join(folder, 'notes.mid')
    wav_path = os.path.join(folder, 'notes.wav')
    with open(midi_path, 'wb') as handle:
      handle.write(midi_file(program, notes))
    command = [binary, '-n', '-i', '-q', '-R', '0', '-C', '0', '-g', str(gain),
               '-r', str(schema.SAMPLE_RATE), '-T', 'wav', '-O', 'float',
               '-F', wav_path, soundfont, midi_path]
    result = subprocess.run(command, capture_output=True, text=True,
                            check=False)
    if result.returncode or not os.path.isfile(wav_path):
      raise DataError(f'{soundfont}: fluidsynth failed on program {program} '
                      f'({result.stderr.strip() or result.returncode}).')
    audio = load_audio(wav_path)
  slot = SLOT_MS * schema.SAMPLE_RATE // 1000
  audio = np.pad(audio, (0, max(0, slot * len(notes) - audio.shape[0])))
  clips = np.stack([audio[i * slot:i * slot + schema.NOTE_SAMPLES]
                    for i in range(len(notes))])
  if normalize:
    peaks = np.abs(clips).max(axis=1, keepdims=True)
    raised = clips * (dsp.NOTE_PEAK / np.maximum(peaks, dsp.SILENT_PEAK))
    clips = np.where(peaks >= dsp.SILENT_PEAK, raised, clips)
  return np.clip(clips, -1.0, 1.0).astype(np.float32)
