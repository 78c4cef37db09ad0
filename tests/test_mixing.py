"""Code maths of mixing.py against independent loop formulas."""

import numpy as np
import pytest

from magenta_wavenet import mixing
from magenta_wavenet.errors import CodeError


def random_code(frames, channels=16, seed=0):
  return np.random.default_rng(seed).normal(size=(frames, channels)).astype(
      np.float32)


def test_weighted_mix_is_the_weighted_sum_cut_to_the_shortest():
  codes = [random_code(10, seed=1), random_code(8, seed=2),
           random_code(12, seed=3)]
  weights = [0.5, 0.25, -1.0]
  expected = np.zeros((8, 16))
  for code, weight in zip(codes, weights):
    for t in range(8):
      expected[t] += weight * code[t]
  np.testing.assert_allclose(mixing.weighted_mix(codes, weights), expected,
                             rtol=1e-6, atol=1e-6)


def test_weighted_mix_checks_counts_and_widths():
  with pytest.raises(CodeError, match='2 codes but 3 weights'):
    mixing.weighted_mix([random_code(4), random_code(4)], [1, 2, 3])
  with pytest.raises(CodeError, match='different widths'):
    mixing.weighted_mix([random_code(4), random_code(4, channels=8)], [1, 1])
  with pytest.raises(CodeError, match=r'\[frames, channels\]'):
    mixing.weighted_mix([np.zeros(5)], [1])


def test_interpolate_ends_are_the_inputs_and_steps_are_even():
  a, b = random_code(6, seed=1), random_code(6, seed=2)
  steps = mixing.interpolate(a, b, 5)
  assert steps.shape == (5, 6, 16)
  for k in range(5):
    alpha = k / 4
    np.testing.assert_allclose(steps[k], a + alpha * (b - a), atol=1e-6)
  np.testing.assert_array_equal(steps[0], a)
  with pytest.raises(CodeError, match='at least 2 steps'):
    mixing.interpolate(a, b, 1)


def test_grid_is_bilinear_with_the_corners_at_the_corners():
  corners = [random_code(5, seed=s) for s in range(4)]
  tl, tr, bl, br = corners
  out = mixing.grid(corners, 4)
  assert out.shape == (4, 4, 5, 16)
  for row in range(4):
    for col in range(4):
      x, y = col / 3, row / 3
      expected = ((1 - x) * (1 - y) * tl + x * (1 - y) * tr
                  + (1 - x) * y * bl + x * y * br)
      np.testing.assert_allclose(out[row, col], expected, atol=1e-5)
  np.testing.assert_allclose(out[0, 3], tr, atol=1e-6)
  np.testing.assert_allclose(out[3, 0], bl, atol=1e-6)
  with pytest.raises(CodeError, match='4 corner codes'):
    mixing.grid(corners[:2], 3)


@pytest.mark.parametrize('factor', [0.5, 1.0, 1.5, 2.0, 3.3])
def test_timestretch_against_per_frame_interpolation(factor):
  code = random_code(9)
  out = mixing.timestretch(code, factor)
  new_frames = max(1, round(9 * factor))
  assert out.shape == (new_frames, 16)
  source_times = np.arange(9)
  for j in range(new_frames):
    time = (j + 0.5) / factor - 0.5
    for channel in range(16):
      expected = np.interp(time, source_times, code[:, channel])
      assert out[j, channel] == pytest.approx(expected, abs=1e-5)


def test_timestretch_keeps_a_ramp_a_ramp_and_identity_at_one():
  code = random_code(7)
  np.testing.assert_allclose(mixing.timestretch(code, 1.0), code, atol=1e-6)
  ramp = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 3))
  doubled = mixing.timestretch(ramp, 2.0)
  # Away from the clamped ends a ramp stays a ramp of half the slope.
  np.testing.assert_allclose(np.diff(doubled[2:-2, 0]), 0.5, atol=1e-6)
  with pytest.raises(CodeError, match='positive'):
    mixing.timestretch(code, 0.0)


def test_crossfade_blends_linearly_over_the_overlap():
  a, b = random_code(6, seed=1), random_code(5, seed=2)
  out = mixing.crossfade(a, b, 3)
  assert out.shape == (8, 16)
  np.testing.assert_array_equal(out[:3], a[:3])
  for k in range(3):
    w = (k + 1) / 4
    np.testing.assert_allclose(out[3 + k], (1 - w) * a[3 + k] + w * b[k],
                               atol=1e-6)
  np.testing.assert_array_equal(out[6:], b[3:])
  np.testing.assert_array_equal(mixing.crossfade(a, b, 0),
                                np.concatenate([a, b]))
  with pytest.raises(CodeError, match='between 0 and 5'):
    mixing.crossfade(a, b, 6)
