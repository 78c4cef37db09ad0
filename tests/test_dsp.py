"""Mu-law and trimming against independent numpy formulas."""

import numpy as np
import pytest

from magenta_wavenet.sound import dsp


def numpy_mu_law(x):
  """The reference's mu-law, floor(sign(x) ln(1 + 255|x|) / ln 256 * 128),
  in float32 like the reference graph."""
  x = np.asarray(x, np.float32)
  out = np.sign(x) * np.log(np.float32(1) + np.float32(255) * np.abs(x)
                            ) / np.float32(np.log(256.0))
  return np.clip(np.floor(out * np.float32(128)), -128, 127).astype(np.int32)


def numpy_inverse(q):
  q = np.asarray(q, np.float64)
  y = (q + 0.5) * 2 / 256
  x = np.sign(y) / 255 * (256.0**np.abs(y) - 1)
  return np.where(q == 0, 0.0, x)


def test_dense_grid_matches_formula():
  grid = np.linspace(-1, 1, 200_001, dtype=np.float32)
  ours = dsp.mu_law_encode(grid).numpy()
  expected = numpy_mu_law(grid)
  mismatch = np.flatnonzero(ours != expected)
  # float32 log may differ by one ulp between numpy and TensorFlow; that may
  # only flip a value sitting on a quantization boundary, by one step.
  assert len(mismatch) <= 2, grid[mismatch]
  assert np.all(np.abs(ours - expected) <= 1)
  assert ours.min() == -128 and ours.max() == 127
  assert set(np.unique(ours)) == set(range(-128, 128))


@pytest.mark.parametrize('x, q', [
    (-1.0, -128), (0.0, 0), (1.0, 127), (1e-9, 0), (-1e-9, -1),
    (1e-3, 5), (-1e-3, -6), (0.5, 112), (-0.5, -113)])
def test_edge_cases(x, q):
  assert dsp.mu_law_encode(np.float32(x)).numpy() == q
  assert numpy_mu_law(x) == q


def test_decode_is_the_reference_inverse():
  codes = np.arange(-128, 128)
  np.testing.assert_allclose(dsp.mu_law_decode(codes).numpy(),
                             numpy_inverse(codes), rtol=1e-5, atol=1e-7)
  assert dsp.mu_law_decode(0).numpy() == 0.0


def test_round_trip_error_is_within_half_a_step():
  x = np.linspace(-0.999, 0.999, 50_001, dtype=np.float32)
  decoded = dsp.mu_law_decode(dsp.mu_law_encode(x)).numpy()
  # A step of mu-law at amplitude |x| is about ln(256)/128 * (|x| + 1/255).
  bound = np.log(256) / 128 * (np.abs(x) + 1 / 255)
  assert np.all(np.abs(decoded - x) <= bound)


def test_network_input_and_classes():
  q = np.array([-128, -1, 0, 127])
  np.testing.assert_array_equal(dsp.to_network_input(q).numpy(), q / 128)
  np.testing.assert_array_equal(dsp.to_class(q).numpy(), [0, 127, 128, 255])
  np.testing.assert_array_equal(dsp.from_class(dsp.to_class(q)).numpy(), q)


@pytest.mark.parametrize('length, expected', [
    (40000, 39936), (64000, 64000), (511, 0), (1024, 1024)])
def test_trim(length, expected):
  assert dsp.trim_for_encoding(np.zeros(length), 512).shape == (expected,)
  assert dsp.trim_for_encoding(np.zeros((3, length)), 512).shape == (
      3, expected)


def test_trim_respects_sample_length():
  assert dsp.trimmed_length(64000, 512, sample_length=40000) == 39936


def test_level_gain_raises_only_quiet_sound():
  ramp = np.linspace(-1, 1, 101, dtype=np.float32)
  clips = np.stack([0.09 * ramp, 0.9 * ramp, ramp, 5e-5 * ramp,
                    np.zeros(101, np.float32)])
  gain = dsp.level_gain(clips, dsp.NOTE_PEAK)
  assert gain.shape == (5,) and gain.dtype == np.float32
  # A tenth of the peak is raised tenfold; at or above it, or silence
  # (below SILENT_PEAK), stays.
  np.testing.assert_allclose(gain, [10, 1, 1, 1, 1], rtol=1e-6)
  np.testing.assert_allclose(np.abs(clips[0] * gain[0]).max(), 0.9,
                             rtol=1e-6)
  assert dsp.level_gain(clips[0], dsp.NOTE_PEAK).shape == ()
  np.testing.assert_array_equal(dsp.level_gain(clips, 0.0), np.ones(5))


def test_to_level_takes_the_offset_out_then_raises():
  sine = np.sin(np.linspace(0, 80 * np.pi, 800, endpoint=False))
  clips = np.stack([0.05 * sine + 0.02, 0.9 * sine - 0.3]).astype(np.float32)
  heard, gain = dsp.to_level(clips, dsp.NOTE_PEAK)
  heard, gain = heard.numpy(), gain.numpy()
  # The offset goes; the quiet clip is raised to the peak, the loud one
  # (peak 0.9 once the offset is out) keeps its level.
  np.testing.assert_allclose(dsp.dc_offset(clips), [0.02, -0.3], atol=1e-6)
  np.testing.assert_allclose(gain, [18, 1], rtol=1e-4)
  np.testing.assert_allclose(heard, np.stack([0.9 * sine, 0.9 * sine]),
                             atol=1e-5)
  # A model that takes audio as it is gets it unchanged.
  as_is, ones = dsp.to_level(clips, 0.0)
  np.testing.assert_array_equal(as_is, clips)
  np.testing.assert_array_equal(ones, [1, 1])


def test_a_lopsided_attack_is_no_offset():
  # A pluck whose first moments lean one way, then silence: its mean is
  # not an offset, and its silence stays silent.
  pluck = np.zeros(8000, np.float32)
  pluck[:1000] = -np.exp(-np.arange(1000) / 200) * (
      1.2 + np.sin(np.arange(1000) / 3))
  assert abs(pluck.mean()) > 0.01
  assert dsp.dc_offset(pluck).numpy() == 0
  heard, gain = dsp.to_level(pluck, dsp.NOTE_PEAK)
  np.testing.assert_array_equal(heard.numpy()[1000:], 0)
  np.testing.assert_allclose(heard, pluck * gain.numpy(), rtol=1e-6)
