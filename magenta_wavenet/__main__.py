"""`python -m magenta_wavenet <command> [flags]`: every command in one entry.

`python -m magenta_wavenet --help` lists the commands; `python -m
magenta_wavenet <command> --help` gives one command's usage and flags. The
commands are the modules of `magenta_wavenet.cli` with a `main`; each is
also a console script (`magenta-wavenet-<command>`) and, as since the first
release, `python -m magenta_wavenet.<command>`.
"""

import importlib
import pkgutil
import re
import sys

from magenta_wavenet import cli
from magenta_wavenet.cli import common

PROGRAM = 'python -m magenta_wavenet'


def commands():
  """The command names, sorted: the `cli` modules that define `main`."""
  return sorted(
      module.name for module in pkgutil.iter_modules(cli.__path__)
      if hasattr(importlib.import_module(f'{cli.__name__}.{module.name}'),
                 'main'))


def summary(command):
  """The first clause of a command's module docstring (to its first full
  stop or semicolon)."""
  module = importlib.import_module(f'{cli.__name__}.{command}')
  paragraph = ' '.join((module.__doc__ or '').split('\n\n')[0].split())
  return re.split(r'[.;](?: |$)', paragraph)[0] + '.'



def usage():
  width = max(map(len, commands()))
  lines = [f'  {name:<{width}}  {summary(name)}' for name in commands()]
  return (f'Usage: {PROGRAM} <command> [flags]\n\nCommands:\n'
          + '\n'.join(lines)
          + f'\n\n{PROGRAM} <command> --help gives its flags.')


def main(argv=None):
  """Runs the command named by argv[1] with the rest; returns the exit
  status (2 for a missing or unknown command)."""
  argv = list(sys.argv if argv is None else argv)
  if len(argv) < 2 or argv[1] in ('-h', '--help', 'help'):
    print(usage())
    return 0 if len(argv) >= 2 else common.EXIT_USAGE
  command = argv[1]
  if command not in commands():
    print(f'error: no command {command!r}; the commands are '
          f'{", ".join(commands())}.', file=sys.stderr)
    return common.EXIT_USAGE
  module = importlib.import_module(f'{cli.__name__}.{command}')
  return module.main([f'{PROGRAM} {command}'] + argv[2:])


if __name__ == '__main__':
  raise SystemExit(main())
