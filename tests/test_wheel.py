"""A wheel (a plain `pip install .`) carries the shipped models."""

import os
import subprocess
import sys

import numpy as np

import magenta_wavenet as mw

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_wheel_install_finds_the_shipped_models(tmp_path):
  pip = [sys.executable, '-m', 'pip', '-q', '--disable-pip-version-check']
  subprocess.run(pip + ['wheel', REPO, '--no-deps', '--no-build-isolation',
                        '-w', str(tmp_path / 'wheel')], check=True)
  wheel, = os.listdir(tmp_path / 'wheel')
  target = tmp_path / 'site'
  subprocess.run(pip + ['install', '--no-deps', '--target', str(target),
                        str(tmp_path / 'wheel' / wheel)], check=True)
  script = (
      'import numpy as np, magenta_wavenet as mw\n'
      'print(mw.__file__)\n'
      'for name in sorted(mw.model.pretrained.SHIPPED):\n'
      '  print(mw.model.pretrained.shipped_model_path(name))\n'
      'model = mw.default_model()\n'
      'np.save("weights.npy", model.conv_layers()["logits"].kernel.numpy())\n')
  environment = dict(os.environ, PYTHONPATH=str(target))
  result = subprocess.run([sys.executable, '-c', script], cwd=tmp_path,
                          env=environment, capture_output=True, text=True)
  assert result.returncode == 0, result.stderr
  package_file, *model_paths = result.stdout.split()
  assert package_file.startswith(str(target))
  assert model_paths == [
      str(target / 'magenta_wavenet' / 'checkpoints' / name)
      for name in sorted(mw.model.pretrained.SHIPPED)]
  np.testing.assert_array_equal(
      np.load(tmp_path / 'weights.npy'),
      mw.default_model().conv_layers()["logits"].kernel.numpy())


def test_without_tensorflow_the_import_says_how_to_get_it():
  script = ('import sys\n'
            'sys.modules["tensorflow"] = None  # as if not installed\n'
            'import magenta_wavenet\n')
  result = subprocess.run([sys.executable, '-c', script], cwd=REPO,
                          capture_output=True, text=True)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1] == (
      'ImportError: magenta_wavenet needs TensorFlow: pip install '
      '"magenta_wavenet[cpu]" (or "[cuda]" on a machine with an NVIDIA GPU), '
      'or pip install -r requirements.txt.')


def test_tensorflow_is_chosen_by_extras(tmp_path):
  """Both builds provide the `tensorflow` module, so neither is a plain
  requirement (pip would install both); the extras choose one."""
  result = subprocess.run(
      [sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base',
       str(tmp_path)], cwd=REPO, capture_output=True, text=True)
  assert result.returncode == 0, result.stderr
  sections, name = {}, ''
  requires = tmp_path / 'magenta_wavenet.egg-info' / 'requires.txt'
  for line in requires.read_text().splitlines():
    if line.startswith('['):
      name = line.strip('[]')
    elif line:
      sections.setdefault(name, []).append(line)
  assert not [line for line in sections[''] if line.startswith('tensorflow')]
  assert sections['cpu'] == ['tensorflow-cpu<2.22,>=2.16']
  assert sections['cuda'] == ['tensorflow[and-cuda]<2.22,>=2.16']
