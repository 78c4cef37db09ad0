"""One error hierarchy for everything a user can get wrong.

Command lines catch `MagentaWavenetError`, print its message (which names the
file and the problem) on one line and exit non-zero; library callers can catch
the specific subclass.
"""


class MagentaWavenetError(Exception):
  """Base class of every error this package raises for bad input."""


class AudioError(MagentaWavenetError):
  """An audio file is missing, unreadable, empty, too short or not finite."""


class AudioTooLong(AudioError):
  """An audio file lasts longer than a caller's limit."""


class CodeError(MagentaWavenetError):
  """A code (the encoder's output, or a `.npy` of one) has the wrong rank,
  width or content, or a pitch given with it is not a MIDI note."""


class CheckpointError(MagentaWavenetError):
  """A checkpoint is missing, unreadable, or its variables do not fit."""


class DataError(MagentaWavenetError):
  """A TFRecord dataset is missing, corrupt or does not follow the schema."""


class ConfigError(MagentaWavenetError, ValueError):
  """A hyperparameter or preset name is invalid."""


# What reading or writing a user's files can raise: batch functions report
# these per file (their `on_error`) and command lines print them on one line.
USER_ERRORS = (MagentaWavenetError, OSError)


def describe(error):
  """One line for a user error; an OSError gets its file name in front."""
  if isinstance(error, OSError) and error.strerror:
    name = f'{error.filename}: ' if error.filename else ''
    return f'{name}{error.strerror}.'
  return str(error).splitlines()[0] if str(error) else type(error).__name__
