"""The folder `prepare_inputs` writes and `train_torch_gpu.py` reads.

Its file names, the probe both scripts check the port on, and the training
notes' mu-law classes on disk. Only numpy and the standard library, so the
PyTorch recipe imports it on a machine without TensorFlow (it runs as a
script, with this folder first on its path).

The classes are one uint8 [notes, samples] array (values q + 128) saved as
an .npy and compressed with LZMA (xz): on 2,748 notes of four SoundFont
renders of `make_dataset` LZMA kept 43% of the bytes (28.5 of 66 MB), where
numpy's zlib (`savez_compressed`) kept 62%, so a GPU call, which carries
64 MiB, takes about 40% more notes.
"""

import io
import lzma

import numpy as np

CLASSES_FILE = 'classes.npy.xz'
PITCH_FILE = 'pitch.npy'
NOTES_FILE = 'notes.txt'
INIT_FILE = 'init.npz'
EXPECT_FILE = 'expect.npz'
# The probe: the first PROBE_NOTES notes, samples PROBE_START to
# PROBE_START + PROBE_LENGTH, whose logits the two sides compare.
PROBE_START = 20000
PROBE_LENGTH = 2048
PROBE_NOTES = 2


def write_classes(path, classes):
  """Writes uint8 [notes, samples] mu-law classes as LZMA-compressed .npy."""
  buffer = io.BytesIO()
  np.save(buffer, np.asarray(classes, np.uint8), allow_pickle=False)
  with lzma.open(path, 'wb', preset=6) as handle:
    handle.write(buffer.getvalue())


def read_classes(path):
  """The uint8 [notes, samples] array `write_classes` wrote."""
  with lzma.open(path, 'rb') as handle:
    return np.load(io.BytesIO(handle.read()), allow_pickle=False)
