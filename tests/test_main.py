"""`python -m magenta_wavenet <command>`: one entry point for every command."""

import ast
import os
import subprocess
import sys

import magenta_wavenet
from magenta_wavenet import __main__ as entry

SETUP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), 'setup.py')


def setup_commands():
  """The console scripts' commands, read from setup.py's COMMANDS."""
  with open(SETUP, encoding='utf-8') as stream:
    tree = ast.parse(stream.read())
  for node in tree.body:
    if isinstance(node, ast.Assign) and node.targets[0].id == 'COMMANDS':
      return ast.literal_eval(node.value)
  raise AssertionError('setup.py has no COMMANDS')


def test_the_commands_are_the_console_scripts_and_the_old_modules():
  assert entry.commands() == sorted(setup_commands())
  package = os.path.dirname(magenta_wavenet.__file__)
  for name in entry.commands():  # python -m magenta_wavenet.<command>
    assert os.path.isfile(os.path.join(package, f'{name}.py')), name


def test_help_lists_every_command_with_its_summary(capsys):
  assert entry.main(['magenta_wavenet', '--help']) == 0
  out = capsys.readouterr().out
  assert out.startswith('Usage: python -m magenta_wavenet <command> [flags]')
  for name in entry.commands():
    assert f'  {name} ' in out
  assert 'Encodes audio files into NSynth codes' in out


def test_a_command_runs_with_its_flags_and_errors(capsys, tmp_path):
  assert entry.main(['magenta_wavenet', 'plot', '--help']) == 0
  assert '--source_path' in capsys.readouterr().out
  assert entry.main(['magenta_wavenet', 'plot',
                     f'--source_path={tmp_path / "missing.wav"}']) == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert err == [f'error: {tmp_path / "missing.wav"}: no such file or folder.']


def test_a_missing_or_unknown_command_is_a_usage_error(capsys):
  assert entry.main(['magenta_wavenet']) == 2
  assert 'Commands:' in capsys.readouterr().out
  assert entry.main(['magenta_wavenet', 'generat']) == 2
  assert capsys.readouterr().err.startswith(
      "error: no command 'generat'; the commands are benchmark, ")


def test_python_dash_m_runs_it():
  result = subprocess.run(
      [sys.executable, '-m', 'magenta_wavenet', 'export', '--help'],
      capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode == 0, result.stderr
  assert 'python -m magenta_wavenet export --save_path=' in result.stdout
