"""What every command line shares: flags parsing, logging, one-line errors,
input listing, output naming and the batch summary.

Each command keeps its flags in its own `flags.FlagValues`, so the commands
can be imported together and run in-process (`main(argv)`), as the tests do.
User errors (`MagentaWavenetError`, and `OSError` from reading or writing
files) print one line naming the file and the problem and exit with status 1;
the traceback is shown only with `--log=DEBUG`. Unexpected exceptions are bugs
and keep their traceback.
"""

import collections
import glob
import importlib
import logging
import os
import sys

from absl import flags

from magenta_wavenet.data.reader import NoteFilter
from magenta_wavenet.errors import USER_ERRORS
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.errors import describe
from magenta_wavenet.model import pretrained
from magenta_wavenet.synthesis import litert

logger = logging.getLogger('magenta_wavenet')

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # as a shell reports Ctrl-C
LOG_LEVELS = ('DEBUG', 'INFO', 'WARN', 'WARNING', 'ERROR', 'FATAL')


def new_flags():
  """A fresh `FlagValues` with `--log`, the reference's logging threshold."""
  flag_values = flags.FlagValues()
  flags.DEFINE_enum('log', 'INFO', LOG_LEVELS,
                    'Threshold of the messages shown; DEBUG also shows '
                    'tracebacks of errors.', flag_values=flag_values,
                    case_sensitive=False)
  return flag_values


def define_checkpoint_flag(flag_values):
  """Adds `--checkpoint_path`, empty (the shipped model) by default."""
  flags.DEFINE_string(
      'checkpoint_path', '',
      'Model to use: a name (h512_bo16: Magenta\'s published model, '
      'downloaded once; h64_bo16: shipped), a Magenta checkpoint (prefix, '
      'file, folder or .tar), a training logdir, a folder from save_model, '
      'or a .keras file. Empty: the shipped model.',
      flag_values=flag_values)


def define_weights_flag(flag_values):
  """Adds `--weights`: how the decoder's weights are stored while
  generating (`generation.Synthesizer`)."""
  flags.DEFINE_enum(
      'weights', 'float32', litert.WEIGHT_FORMATS,
      'Decoder weights while generating: float32 (exact), float16 (half the '
      'bytes per sample) or int8 (a quarter): faster at batch 1, and the '
      'probabilities move slightly. The runtime follows the model: the '
      'Numba loop, or LiteRT for int8 at full size.',
      flag_values=flag_values)


def define_pitch_flag(flag_values):
  """Adds `--pitch`: the MIDI pitch codes play at on a pitch-conditioned
  model (`codes.fit_code`)."""
  flags.DEFINE_float(
      'pitch', None,
      'Pitch-conditioned models: the MIDI pitch (0-127) of every code, '
      'appended to 16-channel codes, replacing the pitch of 17-channel '
      'ones; audio is shifted from its own pitch to it, then encoded. '
      'Default: each input\'s own.',
      lower_bound=0, upper_bound=127, flag_values=flag_values)


def define_pipeline_flag(flag_values):
  """Adds `--pipeline_options`: run the job as an Apache Beam pipeline."""
  flags.DEFINE_string(
      'pipeline_options', None,
      'Run as an Apache Beam pipeline with these Beam flags, comma-separated '
      '(Magenta\'s convention): --runner=DirectRunner,--direct_num_workers=2,'
      '--direct_running_mode=multi_processing on this machine; FlinkRunner, '
      'SparkRunner or DataflowRunner with their own flags on many. Paths '
      'may then be gs://, s3:// or hdfs://. Needs pip install '
      '\'magenta_wavenet[beam]\'. Empty string: Beam\'s defaults.',
      flag_values=flag_values)


def beam_job(name):
  """The module `magenta_wavenet.beam.<name>`, or a user error saying how
  to install Apache Beam when it is missing."""
  try:
    return importlib.import_module(f'magenta_wavenet.beam.{name}')
  except ImportError as error:
    if not (error.name or '').startswith('apache_beam'):
      raise
    raise MagentaWavenetError(
        '--pipeline_options runs the job on Apache Beam, which is not '
        'installed: pip install \'magenta_wavenet[beam]\'.') from None


def print_failures(lines):
  """Prints a Beam job's failure lines ('path: problem') as `Batch.fail`
  prints a failed input's."""
  for line in lines:
    print(f'error: {line}', file=sys.stderr)


def define_note_filter_flags(flag_values, verb):
  """--pitch_min, --pitch_max, --families, --sources and --velocities.

  Args:
    flag_values: The command's `FlagValues`.
    verb: What the command does with the notes kept, for the help
      ('trained on', 'scored').
  """
  flags.DEFINE_integer('pitch_min', 0, f'Lowest MIDI pitch {verb}.',
                       flag_values=flag_values)
  flags.DEFINE_integer('pitch_max', 127, f'Highest MIDI pitch {verb}.',
                       flag_values=flag_values)
  flags.DEFINE_list('families', None, f'Instrument families {verb} (names '
                    'or ids).', flag_values=flag_values)
  flags.DEFINE_list('sources', None, f'Instrument sources {verb} (acoustic, '
                    'electronic, synthetic).', flag_values=flag_values)
  flags.DEFINE_list('velocities', None, f'MIDI velocities {verb}.',
                    flag_values=flag_values)


def define_follow_flag(flag_values):
  """--follow_semitones, of the commands that score resyntheses."""
  flags.DEFINE_list('follow_semitones', [], 'Pitch moves in semitones (e.g. '
                    '-12,7): each note is generated twice more per move, '
                    'from its own code with only the pitch moved and from '
                    'the note shifted to that pitch, and scored on whether '
                    'it plays the moved pitch (a pitch-conditioned model '
                    'only).', flag_values=flag_values)


def define_retry_flag(flag_values, pack=False, studio=False, mix=False):
  """--retry_off_pitch, of the commands that resynthesize audio; for a
  sample `pack` (a note mixed from its sources) its default is the pack's
  own, for the `studio` it is the default of its renders, for `mix` it
  retries the results of --synthesize by moving their sounds."""
  moves = ('1, then -1, 2, -2 semitones, and keep the first that plays the '
           'pitch once moved back; each retry costs one more generation of '
           'that note')
  if mix:
    text = ('Generate a result of --synthesize that does not play --pitch '
            '(a wrong partial, another pitch, none) again from its sounds '
            f'moved {moves}. Audio inputs and --pitch only.')
  elif pack or studio:
    what = ('The default of the page\'s renders: g' if studio else 'G')
    text = (f'{what}enerate a note that does not play its pitch (a wrong '
            f'partial, another pitch, none) again from its sources moved '
            f'{moves}' + ('; default: the pack\'s own, or false.' if pack
                          else '.'))
  else:
    text = ('Generate an output that plays its input\'s pitch on fewer than '
            '90% of the input\'s voiced frames (a wrong partial, another '
            'pitch, none) again from the input moved 1, then -1, 2, -2 '
            'semitones until one reaches 90% once moved back, and keep the '
            'one that plays it most; each retry costs one more generation of '
            'that note. Audio inputs only.')
  flags.DEFINE_boolean('retry_off_pitch', None if pack else False, text,
                       flag_values=flag_values)


def define_harmonic_filter_flag(flag_values, pack=False, studio=False):
  """--harmonic_filter_db, of the commands that generate audio; for a
  sample `pack` its default is the pack's own, for the `studio` it is the
  default of its renders."""
  what = ('The default of the page\'s renders: a' if studio else 'A')
  flags.DEFINE_float(
      'harmonic_filter_db', None if pack else 0.0,
      f'{what}ttenuate the noise between the harmonics of the pitch each '
      'output plays by this many dB (e.g. 20), frame by frame where pYIN '
      'finds an f0 and the frame is harmonic; frames of noise or without '
      'pitch pass unchanged. 0: the audio as the model generated it' + (
          '; default: the pack\'s own, or 0.' if pack else '.'),
      lower_bound=0.0, flag_values=flag_values)


def define_expected_value_flag(flag_values, pack=False, studio=False):
  """--expected_value, of the commands that generate audio; for a sample
  `pack` its default is the pack's own, for the `studio` it is the default
  of its renders."""
  what = ('The default of the page\'s renders: w' if studio else 'W')
  flags.DEFINE_boolean(
      'expected_value', None if pack else False,
      f'{what}rite each sample as the expected value of the distribution it '
      'was drawn from instead of the draw (the draws still drive the next '
      'steps): takes the unpredictable part of each sample, much of the '
      'noise between the harmonics, out of a pitched note' + (
          '; default: the pack\'s own, or false (the draws).' if pack else
          '. False: the draws, as Magenta\'s.'), flag_values=flag_values)


def follow_semitones(flag_values):
  """The integers of --follow_semitones."""
  try:
    return tuple(int(shift) for shift in flag_values.follow_semitones)
  except ValueError:
    raise MagentaWavenetError(
        f'--follow_semitones must be integers, got '
        f'{",".join(flag_values.follow_semitones)}.') from None


def note_filter(flag_values):
  """The `NoteFilter` of `define_note_filter_flags`' flags."""
  try:
    velocities = tuple(int(v) for v in flag_values.velocities or ())
  except ValueError:
    raise MagentaWavenetError(
        f'--velocities must be integers, got '
        f'{",".join(flag_values.velocities)}.') from None
  return NoteFilter(
      pitch_range=(flag_values.pitch_min, flag_values.pitch_max),
      families=tuple(flag_values.families or ()) or None,
      sources=tuple(flag_values.sources or ()) or None,
      velocities=velocities or None)


def _setup_logging(level):
  level = {'WARN': 'WARNING', 'FATAL': 'CRITICAL'}.get(level.upper(),
                                                       level.upper())
  logging.basicConfig(stream=sys.stderr, level=level, force=True,
                      format='%(levelname)s: %(message)s')


def run(body, flag_values, argv, doc):
  """Parses `argv` into `flag_values`, then calls `body(flag_values)`.

  Args:
    body: Function of the parsed flags returning an exit status (or None
      for 0).
    flag_values: The command's `FlagValues` (from `new_flags`).
    argv: Full argument list, program name first (None: `sys.argv`).
    doc: The command's module docstring, printed by `--help`.

  Returns:
    Exit status: 0 on success, 1 after user errors, 2 for bad flags, 130
    after Ctrl-C.
  """
  argv = list(sys.argv if argv is None else argv)
  if any(arg in ('-h', '--help', '-help', '--helpfull') for arg in argv[1:]):
    print(doc.strip() + '\n\nFlags:\n' + flag_values.get_help())
    return 0
  for name in flag_values:  # a second in-process run starts from defaults
    flag_values[name].unparse()
  try:
    rest = flag_values(argv)
  except flags.Error as error:
    print(f'error: {error}', file=sys.stderr)
    return EXIT_USAGE
  if len(rest) > 1:
    print(f'error: unexpected arguments: {" ".join(rest[1:])}',
          file=sys.stderr)
    return EXIT_USAGE
  _setup_logging(flag_values.log)
  try:
    status = body(flag_values)
  except USER_ERRORS as error:
    logger.debug('Traceback of the error below:', exc_info=True)
    print(f'error: {describe(error)}', file=sys.stderr)
    return EXIT_FAILURE
  except KeyboardInterrupt:
    print('interrupted; files written so far are complete.', file=sys.stderr)
    return EXIT_INTERRUPTED
  return status or 0


def log_progress(done, total, rate):
  """`progress` callback of `generation.synthesize` logging at INFO."""
  logger.info('Generated %d of %d samples (%d%%), %.0f samples/s, %.0f s '
              'left.', done, total, 100 * done // total, rate,
              (total - done) / rate if rate else float('inf'))


def model_from_flag(checkpoint_path):
  """The model at `checkpoint_path`, or the shipped model when it is empty."""
  name = checkpoint_path or pretrained.DEFAULT_MODEL
  logger.info('Loading the model %s.', name)
  return pretrained.load_model(name)


def list_inputs(source_path, extensions):
  """Input files: one file, the matching files of a folder, or a glob.

  Args:
    source_path: A file, a folder (not searched recursively) or a quoted
      glob pattern such as 'notes/*/*.wav'.
    extensions: Lower-case extensions a folder's or glob's files must have.

  Returns:
    Sorted list of paths.

  Raises:
    MagentaWavenetError: when nothing is found.
  """
  if not source_path:
    raise MagentaWavenetError('--source_path is required.')
  if os.path.isfile(source_path):
    return [source_path]
  if os.path.isdir(source_path):
    names = [os.path.join(source_path, name)
             for name in os.listdir(source_path)]
  elif glob.has_magic(source_path):
    names = glob.glob(source_path)
  else:
    raise MagentaWavenetError(f'{source_path}: no such file or folder.')
  found = sorted(name for name in names if os.path.isfile(name)
                 and name.lower().endswith(tuple(extensions)))
  if not found:
    raise MagentaWavenetError(
        f'{source_path}: no {" or ".join(extensions)} files there.')
  return found


def output_paths(inputs, save_path, prefix='', suffix=''):
  """One distinct output path per input, named after its whole file stem.

  The stem is everything before the last extension, so 'a.b.c.wav' gives
  'a.b.c'. Inputs that would share a name (same stem, different extension
  or folder) get their extension and then their folder added:
  'x/a.wav' and 'y/a.wav' -> 'x_a.wav', 'y_a.wav'.

  Returns:
    List of paths under `save_path`, e.g. prefix + stem + suffix.
  """
  def names(key):
    return [prefix + key(path) + suffix for path in inputs]

  stem = lambda path: os.path.splitext(os.path.basename(path))[0]
  base = lambda path: os.path.basename(path)
  parent = lambda path: '_'.join(
      [os.path.basename(os.path.dirname(os.path.abspath(path))), base(path)])
  full = lambda path: os.path.abspath(path).strip(os.sep).replace(os.sep, '_')
  for key in (stem, base, parent, full):
    candidates = names(key)
    if len(set(candidates)) == len(candidates):
      return [os.path.join(save_path, name) for name in candidates]
  raise MagentaWavenetError('the same input file is listed twice.')


def check_sample_length(sample_length, hop_length):
  """Refuses a `--sample_length` shorter than one hop of the model."""
  if sample_length < hop_length:
    raise MagentaWavenetError(f'--sample_length={sample_length} is shorter '
                              f'than one hop ({hop_length}).')


def make_folder(save_path):
  """Creates the output folder; an unwritable one is a user error. A URL
  (gs://bucket/folder) is left to its file system: object stores have no
  folders."""
  if not save_path:
    raise MagentaWavenetError('--save_path is required.')
  if '://' in save_path:
    return
  if os.path.exists(save_path) and not os.path.isdir(save_path):
    raise MagentaWavenetError(f'{save_path}: exists and is not a folder.')
  os.makedirs(save_path, exist_ok=True)
  if not os.access(save_path, os.W_OK):
    raise MagentaWavenetError(f'{save_path}: folder is not writable.')


class Batch:
  """Tracks the outcome of each input of a batch job.

  Example:
    >>> batch = Batch('encoded')
    >>> with batch.item(path):
    ...   do_work(path)
    >>> return batch.finish()

  A library function taking `on_error` reports to `batch.fail`; the inputs
  it returns as done go to `batch.done`.
  """

  def __init__(self, verb):
    self.verb = verb
    self.done = []
    self.failed = collections.OrderedDict()

  def fail(self, path, error):
    """Records a user error of one input and prints its line."""
    logger.debug('Traceback of the error below:', exc_info=error)
    message = describe(error)
    if not message.startswith(str(path)):
      message = f'{path}: {message}'
    print(f'error: {message}', file=sys.stderr)
    self.failed[path] = message

  def item(self, path):
    """Context manager: a user error inside is recorded, not raised."""
    return _Item(self, path)

  def finish(self):
    """Logs the summary; returns the exit status (1 if anything failed)."""
    total = len(self.done) + len(self.failed)
    if self.failed:
      print(f'{len(self.failed)} of {total} inputs failed; {len(self.done)} '
            f'{self.verb}.', file=sys.stderr)
      return EXIT_FAILURE
    logger.info('%d of %d inputs %s.', len(self.done), total, self.verb)
    return 0


class _Item:
  """`Batch.item`'s context manager."""

  def __init__(self, batch, path):
    self.batch, self.path = batch, path

  def __enter__(self):
    return self

  def __exit__(self, kind, error, traceback):
    if error is None:
      self.batch.done.append(self.path)
      return False
    if isinstance(error, USER_ERRORS):
      self.batch.fail(self.path, error)
      return True
    return False
