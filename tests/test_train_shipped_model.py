"""The shipped models, checkpoints/h64_bo16*, and `pretrained.default_model`."""

import numpy as np
import pytest

import magenta_wavenet as mw
from magenta_wavenet.model import pretrained
from magenta_wavenet.training import metrics

# Values of each shipped model on the bundled nsynth_e5 (first 4,096
# samples): the first two frames' first four code channels and the NLL in
# bits. Random, missing or misplaced weights fail here; retraining a shipped
# model means measuring them again.
PINNED = {
    'h64_bo16': ([[-1.353821, 1.768096, -2.165624, 2.619341],
                  [-2.659652, 3.249051, -3.90361, 4.58793]], 4.4507),
    'h64_bo16_pitch': ([[-1.577166, 2.721725, -3.479404, 3.500523],
                        [-2.304999, 2.90332, -3.534189, 3.574729]], 3.1871),
}


def test_default_model_is_the_shipped_pitch_conditioned_one():
  model = pretrained.default_model()
  assert model.config == mw.PRESETS['h64_bo16_pitch']
  code = model.encode(mw.load_audio(mw.bundled_sound('nsynth_e5'))[None])
  # 16 code channels, then the MIDI pitch pYIN hears: E5 is note 76.
  assert code.shape == (1, 78, 17)
  np.testing.assert_array_equal(code[0, :, -1], 76)


def test_every_shipped_model_is_pinned():
  assert set(PINNED) == set(pretrained.SHIPPED)


@pytest.mark.parametrize('name', sorted(PINNED))
def test_shipped_weights_give_their_pinned_outputs(name):
  model = mw.load_model(name)
  assert model.config == mw.PRESETS[name]
  audio = mw.load_audio(mw.bundled_sound('nsynth_e5'))[None, :4096]
  code, bits = PINNED[name]
  np.testing.assert_allclose(model.encode(audio).numpy()[0, :2, :4], code,
                             atol=1e-4)
  assert metrics.nll_bits(model, audio)[0] == pytest.approx(bits, abs=1e-3)
  # Untrained weights predict no better than uniform over 256 (8 bits).
  untrained = metrics.nll_bits(mw.NSynthAutoencoder(name), audio)[0]
  assert untrained > 7.5


def test_missing_shipped_model_is_a_clear_error(monkeypatch, tmp_path):
  monkeypatch.setattr(pretrained, 'SHIPPED_FOLDERS', (str(tmp_path),))
  with pytest.raises(mw.CheckpointError, match='the shipped checkpoint is in '
                     'none of'):
    pretrained.default_model()
