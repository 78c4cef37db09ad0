"""The harmonic filter: noise between harmonics goes, harmonics and sounds
without pitch stay."""

import numpy as np
import pytest
from test_evaluate import ENVELOPES
from test_evaluate import harmonic_tone
from test_evaluate import white_noise

from magenta_wavenet import resynthesis
from magenta_wavenet.cli import generate
from magenta_wavenet.sound import harmonics
from magenta_wavenet.sound.pitch import FRAME_LENGTH
from magenta_wavenet.sound.pitch import f0
from magenta_wavenet.training import metrics

RATE = 16000


def band_energy(audio, f0_hz, inside):
  """Energy of the harmonic bands (inside) or of the bins between them, in
  the metric's own frames, less the 4 at each end (where a constructed tone
  starts and stops with a click)."""
  power = metrics._frame_power(audio, 4 * FRAME_LENGTH)[4:-4]
  distance = harmonics.harmonic_distance(
      np.fft.rfftfreq(4 * FRAME_LENGTH, 1.0 / RATE), f0_hz)
  band = distance <= harmonics.HARMONIC_BAND
  mask = band if inside else np.isfinite(distance) & ~band
  return float(np.sum(power * mask))


@pytest.mark.parametrize('frequency', [110.0, 220.0, 587.3])
def test_noise_between_harmonics_goes_and_the_harmonics_stay(frequency):
  clean = harmonic_tone(frequency, ENVELOPES[1], seconds=1.0)
  noise = white_noise(clean, 20)
  noisy = clean + noise
  assert metrics.harmonic_to_noise_db(noisy, frequency) == pytest.approx(
      20, abs=2)
  filtered = harmonics.harmonic_filter(noisy, 20.0)
  assert filtered.dtype == np.float32 and filtered.shape == noisy.shape
  # The noise between the harmonics loses most of the 20 dB asked for (the
  # raised-cosine slopes keep some, more where harmonics stand close)...
  lost = 10 * np.log10(band_energy(noisy, frequency, False)
                       / band_energy(filtered, frequency, False))
  assert 12 < lost < 21
  assert metrics.harmonic_to_noise_db(filtered, frequency) > 33
  # ...while the harmonics keep their level within 0.5 dB, and a clean
  # tone passes nearly unchanged.
  assert 10 * np.log10(band_energy(filtered, frequency, True)
                       / band_energy(noisy, frequency, True)) == (
                           pytest.approx(0, abs=0.5))
  middle = slice(2 * FRAME_LENGTH, -2 * FRAME_LENGTH)  # past the clicks
  untouched = harmonics.harmonic_filter(clean, 20.0)
  assert np.max(np.abs(untouched - clean)[middle]) < 0.01 * np.max(clean)


def test_the_compiled_track_filters_as_librosas_would():
  clean = harmonic_tone(330.0, ENVELOPES[2], seconds=1.0)
  noisy = clean + white_noise(clean, 15)
  np.testing.assert_array_equal(
      harmonics.harmonic_filter(noisy, 20.0),
      harmonics.harmonic_filter(noisy, 20.0, track=f0(noisy)))


def test_more_attenuation_takes_more_noise():
  noisy = harmonic_tone(220.0, ENVELOPES[0]) + white_noise(
      harmonic_tone(220.0, ENVELOPES[0]), 15)
  ratios = [metrics.harmonic_to_noise_db(
      harmonics.harmonic_filter(noisy, db), 220.0) for db in (0, 6, 12, 24)]
  assert ratios == sorted(ratios) and ratios[-1] - ratios[0] > 15


def test_the_f0_the_audio_plays_is_filtered_not_another():
  # A note locked to 3 f0 keeps its pitch: the filter follows what it
  # plays, so its harmonics at 3, 6, 9... f0 pass.
  played = harmonic_tone(660.0, ENVELOPES[1])
  noisy = played + white_noise(played, 20)
  filtered = harmonics.harmonic_filter(noisy, 20.0)
  assert metrics.partial(filtered, 57) == ('3', pytest.approx(3, abs=0.05))
  # Told a wrong f0 (a track a fifth up), no frame is harmonic at it, and
  # the note passes as it came rather than losing its harmonics.
  frequency, voiced = f0(noisy)
  assert metrics.harmonic_to_noise_db(noisy, frequency * 1.5) < 0
  np.testing.assert_allclose(
      harmonics.harmonic_filter(noisy, 20.0, track=(frequency * 1.5, voiced)),
      noisy, atol=1e-5)


def test_noise_silence_and_low_pitches_pass_unchanged():
  noise = white_noise(np.full(16000, 0.3, np.float32), 0)
  # pYIN calls some frames of white noise voiced; they are not harmonic.
  assert np.any(f0(noise)[1])
  np.testing.assert_allclose(harmonics.harmonic_filter(noise, 30.0), noise,
                             atol=1e-5)
  silence = np.zeros(8000, np.float32)
  np.testing.assert_array_equal(harmonics.harmonic_filter(silence, 30.0),
                                silence)
  # Harmonics 35 Hz apart leave no room between their main lobes.
  low = harmonic_tone(35.0, ENVELOPES[0], seconds=1.0)
  low_noisy = low + white_noise(low, 20)
  np.testing.assert_allclose(harmonics.harmonic_filter(low_noisy, 30.0),
                             low_noisy, atol=1e-5)
  # Shorter than a frame, and 0 dB: the audio as it came.
  short = white_noise(np.ones(1000, np.float32), 0)
  np.testing.assert_array_equal(harmonics.harmonic_filter(short, 20.0), short)
  tone = harmonic_tone(220.0, ENVELOPES[0])
  np.testing.assert_array_equal(harmonics.harmonic_filter(tone, 0.0), tone)
  with pytest.raises(ValueError, match='-3.0 dB'):
    harmonics.harmonic_filter(tone, -3.0)
  with pytest.raises(ValueError, match='nan dB'):
    harmonics.harmonic_filter(tone, float('nan'))
  with pytest.raises(ValueError, match=r'got shape \[2, 8000\]'):
    harmonics.harmonic_filter(np.stack([tone, tone]), 20.0)


def test_gains_pass_harmonics_and_stop_between():
  bins = np.array([0.0, 50.0, 200.0, 230.0, 250.0, 300.0, 330.0, 400.0])
  gains = harmonics.harmonic_gains(bins, np.array([200.0, np.nan, 20.0]),
                                   20.0)
  # 200 Hz: below f0 / 2 and at the harmonics 1 (stop from 60 Hz off).
  np.testing.assert_allclose(gains[0, [0, 1, 2, 7]], 1.0)
  np.testing.assert_allclose(gains[0, [5, 6]], 0.1)
  assert 0.1 < gains[0, 4] < gains[0, 3] <= 1.0
  # No f0, or harmonics too close for a slope: every bin passes.
  np.testing.assert_array_equal(gains[1:], 1.0)


def test_generate_filters_the_finished_files_not_the_partial_ones(
    tiny_checkpoint, tmp_path, monkeypatch):
  checkpoint, _ = tiny_checkpoint
  np.save(tmp_path / 'a.npy', np.zeros((40, 4), np.float32))
  calls = []

  def spy(audio, attenuation_db, sample_rate):
    calls.append((len(audio), attenuation_db, sample_rate))
    return np.full_like(audio, 0.25)
  monkeypatch.setattr(resynthesis, 'harmonic_filter', spy)
  assert generate.main([
      'generate', f'--checkpoint_path={checkpoint}',
      f'--source_path={tmp_path / "a.npy"}', f'--save_path={tmp_path / "o"}',
      '--sample_length=2560', '--save_every=64', '--seed=1',
      '--harmonic_filter_db=18']) == 0
  assert calls == [(2560, 18.0, RATE)]
  saved = resynthesis.load_audio(str(tmp_path / 'o' / 'gen_a.wav'))
  np.testing.assert_allclose(saved, 0.25, atol=1e-4)
  assert not (tmp_path / 'o' / 'gen_a.partial.wav').exists()
