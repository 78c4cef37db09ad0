"""Writes tests/goldens/tiny.npz: the tiny preset's code and logits for fixed
weights and a fixed input.

Regenerate only when the model's maths changes on purpose (and say why in
the commit): `python tests/goldens/make_goldens.py`.
"""

import os

import numpy as np

import magenta_wavenet as mw


def golden_model_and_audio():
  """The tiny model with weights from a closed-form formula, and 2 x 640
  samples of a chirp plus a click."""
  model = mw.NSynthAutoencoder('tiny')
  for number, variable in enumerate(model.weights):
    size = int(np.prod(variable.shape))
    values = np.sin(np.arange(size) * 0.7 + number) / np.sqrt(
        max(1, size // variable.shape[-1]))
    variable.assign(values.reshape(variable.shape).astype(np.float32))
  t = np.arange(640) / 16000
  chirp = 0.6 * np.sin(2 * np.pi * (200 + 4000 * t) * t)
  click = np.zeros(640)
  click[::97] = 0.9
  return model, np.stack([chirp, click]).astype(np.float32)


def main():
  model, audio = golden_model_and_audio()
  code = model.encode(audio).numpy()
  logits = model.decoder_logits(audio, code).numpy()
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tiny.npz')
  np.savez_compressed(path, code=code, logits=logits)
  print(f'wrote {path}: code {code.shape}, logits {logits.shape}')


if __name__ == '__main__':
  main()
