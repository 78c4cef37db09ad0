"""The shipped model, checkpoints/h64_bo16, and `pretrained.default_model`."""

import pytest

import magenta_wavenet as mw
from magenta_wavenet import pretrained


def test_default_model_is_the_shipped_h64_bo16():
  model = pretrained.default_model()
  assert model.config == mw.PRESETS['h64_bo16']
  code = model.encode(mw.load_audio(mw.bundled_sound('nsynth_e5'))[None])
  assert code.shape == (1, 78, 16)


def test_missing_shipped_model_is_a_clear_error(monkeypatch, tmp_path):
  monkeypatch.setattr(pretrained, 'REPO_ROOT', str(tmp_path))
  with pytest.raises(mw.CheckpointError, match='shipped checkpoint is not '
                     'there'):
    pretrained.default_model()
