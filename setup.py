"""pip-installable package of magenta_wavenet.

TensorFlow is chosen by an extra: `pip install '.[cpu]'` (tensorflow-cpu) or
`pip install '.[cuda]'` (tensorflow with NVIDIA's CUDA libraries); the
pinned `requirements.txt` brings tensorflow-cpu. `.[studio]` adds the web
framework of the studio page, `.[beam]` Apache Beam for the distributed
jobs, `.[test]` the test tools (and Beam), `.[tfio]` the
optional tensorflow-io decoder (its ops only load with TensorFlow
2.16/2.17).
"""

import os
import re

import setuptools

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, 'README.md'), encoding='utf-8') as _readme:
  README = _readme.read()
with open(os.path.join(HERE, 'magenta_wavenet', '__init__.py'),
          encoding='utf-8') as _init:
  VERSION = re.search(r"^__version__ = '([^']+)'", _init.read(), re.M).group(1)

# Each is magenta_wavenet/cli/<name>.py, installed as magenta-wavenet-<name>
# with dashes.
COMMANDS = ('save_embeddings', 'generate', 'mix', 'instrument', 'studio',
            'plot', 'export', 'demo', 'benchmark', 'make_dataset', 'train',
            'evaluate', 'data_benchmark')

# Either TensorFlow build provides the `tensorflow` module; pip cannot make
# one the default of the other, so neither is a plain requirement.
TENSORFLOW = '>=2.16,<2.22'
# `instrument` and `save_embeddings` with --pipeline_options (2.77.0 and 2.78.0
# tested).
BEAM = 'apache-beam>=2.60,<3'


setuptools.setup(
    name='magenta_wavenet',
    version=VERSION,
    description=("NSynth's WaveNet autoencoder in TensorFlow 2 / Keras 3: "
                 'encode, mix and resynthesize sounds.'),
    long_description=README,
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    # The shipped checkpoints live at the repository's top level and travel
    # inside the package as magenta_wavenet/checkpoints/<name>/.
    packages=setuptools.find_packages(include=['magenta_wavenet*']) + [
        'magenta_wavenet.checkpoints'],
    package_dir={'magenta_wavenet.checkpoints': 'checkpoints'},
    package_data={'magenta_wavenet': ['sounds/*.wav', 'webapp/static/*'],
                  'magenta_wavenet.checkpoints': ['*/config.json',
                                                  '*/model.ckpt.*']},
    install_requires=[
        'keras>=3.3,<4',
        'numpy>=1.23',
        'librosa>=0.11,<1',
        'soundfile>=0.12',
        'soxr>=0.3',
        'matplotlib>=3.7',
        'absl-py>=1.0',
        'pooch>=1.6',
        'requests>=2.25',
        'tqdm>=4.60',
        # LiteRT runs the decoder with float16 or int8 weights.
        'ai-edge-litert>=2.0',
        # The sample loop of small models (librosa requires it too).
        'numba>=0.59',
        # One BLAS thread per product where the encoder's chunks share the
        # cores (librosa, through scikit-learn, requires it too).
        'threadpoolctl>=3.1',
    ],
    extras_require={
        'cpu': [f'tensorflow-cpu{TENSORFLOW}'],
        'cuda': [f'tensorflow[and-cuda]{TENSORFLOW}'],
        'tfio': ['tensorflow-io==0.37.1'],
        # python-multipart parses the uploads an HTML form sends.
        'studio': ['fastapi>=0.163', 'uvicorn>=0.29',
                   'python-multipart>=0.0.18'],
        'beam': [BEAM],
        # selenium drives the system's chromium (.ci/run installs it);
        # FastAPI's TestClient needs httpx2 (httpx is deprecated there).
        'test': ['pytest>=8', 'nbclient>=0.10', 'nbformat>=5.9',
                 'ipykernel>=6', 'ruff==0.17.6', 'selenium>=4.20',
                 'httpx2>=2', BEAM],
    },
    entry_points={'console_scripts': [
        f'magenta-wavenet-{name.replace("_", "-")} = '
        f'magenta_wavenet.cli.{name}:main' for name in COMMANDS]},
)
