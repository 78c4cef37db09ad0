"""The shipped model, checkpoints/h64_bo16, and `pretrained.default_model`."""

import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet import pretrained
from magenta_wavenet.training import metrics


def test_default_model_is_the_shipped_h64_bo16():
  model = pretrained.default_model()
  assert model.config == mw.PRESETS['h64_bo16']
  code = model.encode(mw.load_audio(mw.bundled_sound('nsynth_e5'))[None])
  assert code.shape == (1, 78, 16)


def test_shipped_weights_give_their_pinned_outputs():
  """Values of the shipped weights on the bundled nsynth_e5 (first 4,096
  samples): random, missing or misplaced weights fail here. Retraining the
  shipped model means measuring them again."""
  model = pretrained.default_model()
  audio = mw.load_audio(mw.bundled_sound('nsynth_e5'))[None, :4096]
  code = model.encode(audio).numpy()
  np.testing.assert_allclose(code[0, :2, :4], [
      [-1.353821, 1.768096, -2.165624, 2.619341],
      [-2.659652, 3.249051, -3.90361, 4.58793]], atol=1e-4)
  bits = metrics.nll_bits(model, audio)[0]
  assert bits == pytest.approx(4.4507, abs=1e-3)
  # Untrained weights predict about 8 bits per sample (uniform over 256).
  untrained = metrics.nll_bits(mw.NSynthAutoencoder('h64_bo16'), audio)[0]
  assert untrained > 7.5


def test_missing_shipped_model_is_a_clear_error(monkeypatch, tmp_path):
  monkeypatch.setattr(pretrained, 'SHIPPED_FOLDERS', (str(tmp_path),))
  with pytest.raises(mw.CheckpointError, match='the shipped checkpoint is in '
                     'none of'):
    pretrained.default_model()
