"""Evaluation: the three measures and the evaluate command line."""

import json
import math

from conftest import tiny_pitch_model
import numpy as np
import pytest
from test_train import write_notes

import magenta_wavenet as mw
from magenta_wavenet.cli import evaluate
from magenta_wavenet.sound.pitch import f0
from magenta_wavenet.training import evaluation
from magenta_wavenet.training import metrics

RATE = 16000


def tone(frequency, seconds=0.5, amplitude=0.5):
  t = np.arange(int(seconds * RATE)) / RATE
  return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def harmonic_tone(frequency, envelope, seconds=0.5):
  """Harmonics k f0 of amplitudes envelope[k - 1] (below Nyquist), peak
  0.5."""
  t = np.arange(int(seconds * RATE)) / RATE
  audio = sum(amplitude * np.sin(2 * np.pi * k * frequency * t + k)
              for k, amplitude in enumerate(envelope, 1)
              if k * frequency < RATE / 2)
  return (0.5 * audio / np.max(np.abs(audio))).astype(np.float32)


def white_noise(like, below_db, seed=0):
  """Gaussian noise `below_db` under the power of `like`."""
  power = np.mean(np.square(like)) * 10**(-below_db / 10)
  return np.random.default_rng(seed).normal(
      0.0, np.sqrt(power), like.shape).astype(np.float32)


# Six "instruments": distinct harmonic envelopes.
ENVELOPES = [np.exp(-np.arange(20) * decay) for decay in (0.1, 0.4, 1.0, 2.5)]
ENVELOPES += [[1, 0, 1, 0, 1, 0, 1, 0, 1], [0.2, 1, 0.1, 0.6, 0, 0.3]]


def test_stft_distance_is_zero_for_equal_and_grows_with_difference():
  a = tone(440.0)[None]
  near = tone(445.0)[None]
  noise = np.random.default_rng(0).uniform(-0.5, 0.5, a.shape).astype(
      np.float32)
  assert metrics.stft_distance(a, a)[0] == pytest.approx(0.0, abs=1e-9)
  assert 0 < metrics.stft_distance(a, near)[0] < metrics.stft_distance(
      a, noise)[0]
  with pytest.raises(ValueError):
    metrics.stft_distance(a, a[:, :100])


def test_pitch_accuracy_uses_a_50_cent_tolerance():
  reference = tone(440.0)
  assert metrics.pitch_accuracy(reference, reference) == 1.0
  assert metrics.pitch_accuracy(reference, tone(440 * 2**(30 / 1200))) > 0.9
  assert metrics.pitch_accuracy(reference, tone(440 * 2**(80 / 1200))) < 0.1
  assert metrics.pitch_accuracy(reference, np.zeros_like(reference)) == 0.0
  assert math.isnan(metrics.pitch_accuracy(np.zeros_like(reference),
                                           reference))
  # A reference's track given once serves every estimate alike.
  track = f0(reference)
  for cents in (30, 80):
    estimate = tone(440 * 2**(cents / 1200))
    assert metrics.pitch_accuracy(
        np.zeros_like(reference), estimate, reference_track=track) == (
            metrics.pitch_accuracy(reference, estimate))


def test_instruments_are_identified_at_one_pitch_by_their_timbre():
  originals = [harmonic_tone(220.0, envelope) for envelope in ENVELOPES]
  profiles = [metrics.timbre_profile(note) for note in originals]
  assert all(profile.shape == (metrics.MEL_BANDS,) and profile.max() == 0
             and profile.min() >= -metrics.PROFILE_FLOOR_DB
             for profile in profiles)
  pitch = [57] * len(originals)
  # Exact copies, and a level that does not count.
  copies = [metrics.timbre_profile(0.3 * note) for note in originals]
  np.testing.assert_array_equal(
      metrics.instrument_identification(profiles, copies, pitch), 1.0)
  # Noise 30 dB down keeps each instrument its own.
  noisy = [metrics.timbre_profile(note + white_noise(note, 30, seed))
           for seed, note in enumerate(originals)]
  assert np.mean(metrics.instrument_identification(
      profiles, noisy, pitch)) >= 5 / 6
  # One timbre for all: only the instrument it is is identified (chance).
  uniform = [profiles[2]] * len(originals)
  np.testing.assert_array_equal(
      metrics.instrument_identification(profiles, uniform, pitch),
      [0, 0, 1, 0, 0, 0])
  # Each resynthesis with another's timbre: none.
  shuffled = profiles[1:] + profiles[:1]
  np.testing.assert_array_equal(
      metrics.instrument_identification(profiles, shuffled, pitch), 0.0)
  # Only notes of the same pitch compete; a note alone is not scored.
  groups = [57, 57, 57, 60, 60, 64]
  identified = metrics.instrument_identification(profiles, copies, groups)
  np.testing.assert_array_equal(identified[:5], 1.0)
  assert math.isnan(identified[5])
  identified = metrics.instrument_identification(profiles, uniform, groups)
  np.testing.assert_array_equal(identified[:3], [0, 0, 1])
  assert identified[3] + identified[4] == 1  # one of the two is nearest


def test_harmonic_to_noise_ratio_measures_the_noise_between_harmonics():
  clean = harmonic_tone(220.0, ENVELOPES[1])
  assert metrics.harmonic_to_noise_db(clean, 220.0) > 45
  for below_db in (30, 20, 10):
    noisy = clean + white_noise(clean, below_db)
    assert metrics.harmonic_to_noise_db(noisy, 220.0) == pytest.approx(
        below_db, abs=2)
  noise = white_noise(clean, 0)
  assert -5 < metrics.harmonic_to_noise_db(noise, 220.0) < 0
  # The original's pYIN track serves as the f0; unvoiced frames are skipped.
  frequency, voiced = f0(clean)
  assert voiced.sum() > len(voiced) // 2
  assert metrics.harmonic_to_noise_db(
      clean + white_noise(clean, 20), frequency) == pytest.approx(20, abs=2)
  # An octave below the f0 puts every other harmonic between its harmonics.
  assert metrics.harmonic_to_noise_db(
      harmonic_tone(110.0, ENVELOPES[1]), 220.0) < 5
  assert math.isnan(metrics.harmonic_to_noise_db(
      clean, np.full(len(voiced), np.nan)))


def test_partial_says_which_partial_of_the_pitch_a_note_plays():
  envelope = ENVELOPES[2]
  assert metrics.partial(harmonic_tone(220.0, envelope), 57) == (
      '1', pytest.approx(1.0, abs=0.02))
  for ratio, label in ((3, '3'), (0.5, '1/2'), (1.5, '3/2')):
    found, measured = metrics.partial(harmonic_tone(220.0 * ratio, envelope),
                                      57)
    assert found == label and measured == pytest.approx(ratio, rel=0.02)
    assert metrics.locked(found)
  # A semitone off is another pitch, not a partial; noise has none.
  assert metrics.partial(harmonic_tone(233.1, envelope), 57)[0] == 'other'
  noise = white_noise(harmonic_tone(220.0, envelope), 0)
  assert f0(noise)[1].any()  # pYIN calls frames of noise voiced
  label, ratio = metrics.partial(noise, 57)
  assert label == metrics.UNVOICED and math.isnan(ratio)
  assert not any(metrics.locked(label) for label in (
      metrics.ON_PITCH, metrics.OTHER_PITCH, metrics.UNVOICED))


@pytest.mark.parametrize('pitch_model', [False, True])
def test_evaluate_scores_timbre_against_the_pitch_the_model_heard(
    pitch_model, monkeypatch):
  model = tiny_pitch_model() if pitch_model else mw.NSynthAutoencoder('tiny')
  originals = np.stack([harmonic_tone(220.0, ENVELOPES[0]),
                        harmonic_tone(220.0, ENVELOPES[3]),
                        harmonic_tone(440.0, ENVELOPES[0])])
  # A resynthesis: the first note as it was, the second at 3 f0, the third
  # noise.
  fake = np.stack([originals[0], harmonic_tone(660.0, ENVELOPES[3]),
                   white_noise(originals[2], 0)])
  monkeypatch.setattr(evaluation, 'synthesize',
                      lambda model, codes, **kwargs: fake)
  # A pitch model hears pYIN's 57, 57, 69 whatever the labels say.
  labels = [40, 40, 80] if pitch_model else [57, 57, 69]
  scores, _ = evaluation.evaluate(model, originals, ['a', 'b', 'c'], labels)
  assert [s.partial for s in scores] == ['1', '3', 'unvoiced']
  assert scores[0].identified == 1.0 and math.isnan(scores[2].identified)
  assert scores[0].original_hnr_db > 40
  assert scores[0].hnr_gap_db == pytest.approx(0.0, abs=1e-9)
  assert scores[2].hnr_gap_db > 40
  means = evaluation.summary(scores)
  assert means['locked'] == pytest.approx(1 / 3)
  assert means['unvoiced'] == pytest.approx(1 / 3)
  assert means['identification_chance'] == 0.5
  assert means['identification'] == np.mean([s.identified
                                             for s in scores[:2]])
  assert means['hnr_gap_db'] == pytest.approx(
      np.mean([s.hnr_gap_db for s in scores]))


def test_nll_bits_is_the_training_loss_over_ln2(tiny_model):
  audio = np.stack([tone(220.0, 0.04), tone(330.0, 0.04)])[:, :640]
  bits = metrics.nll_bits(tiny_model, audio)
  assert bits.shape == (2,)
  assert bits.mean() == pytest.approx(
      float(tiny_model.nll(audio)) / np.log(2), rel=1e-5)


def test_evaluate_command_scores_held_out_notes(tiny_model, tmp_path, capsys):
  records = write_notes(str(tmp_path / 'test.tfrecord'), count=4)
  mw.save_model(tiny_model, tmp_path / 'model')
  status = evaluate.main(
      ['evaluate', '--checkpoint_path', str(tmp_path / 'model'),
       '--eval_path', records, '--num_notes', '2', '--sample_length', '1024',
       '--save_path', str(tmp_path / 'out')])
  assert status == 0
  out = capsys.readouterr().out
  assert '| keyboard_acoustic_000-048-100 | 48 |' in out
  assert '**mean of 2**' in out
  scores = json.load(open(tmp_path / 'out' / 'scores.json'))
  assert [n['pitch'] for n in scores['notes']] == [48, 63]
  # Every figure is the metric of the notes and WAVs written beside it.
  originals, names, _ = evaluation.held_out_notes(records, 2, 1024)
  nll = metrics.nll_bits(tiny_model, originals)
  for index, (name, note) in enumerate(zip(names, scores['notes'])):
    assert note['note_str'] == name
    resynthesis = mw.load_audio(tmp_path / 'out' / f'{name}_resynthesis.wav')
    original = mw.load_audio(tmp_path / 'out' / f'{name}_original.wav')
    assert resynthesis.shape == original.shape == (1024,)
    np.testing.assert_allclose(original, originals[index], atol=1 / 32768)
    assert note['nll_bits'] == pytest.approx(nll[index], rel=1e-5)
    assert note['stft_distance'] == pytest.approx(float(
        metrics.stft_distance(original[None], resynthesis[None])[0]),
                                                  rel=1e-2)
    assert note['hnr_db'] == pytest.approx(metrics.harmonic_to_noise_db(
        resynthesis, f0(original)[0]), abs=0.5)
    assert note['partial'] in ('1', 'other', 'unvoiced') or metrics.locked(
        note['partial'])
  assert np.mean([n['nll_bits'] for n in scores['notes']]) == pytest.approx(
      scores['mean']['nll_bits'])
  # Two notes of two pitches: no instrument identification.
  assert math.isnan(scores['mean']['identification'])
  assert '| - |' in out and '% locked |' in out


def test_evaluate_command_needs_eval_path(capsys):
  assert evaluate.main(['evaluate']) == 1
  assert '--eval_path is required' in capsys.readouterr().err


def test_follows_is_the_share_of_moved_pitches_a_resynthesis_plays(
    monkeypatch):
  originals = np.stack([harmonic_tone(220.0, ENVELOPES[0]),
                        harmonic_tone(330.0, ENVELOPES[1])])
  model = tiny_pitch_model()
  codes = model.encode(originals).numpy()
  np.testing.assert_allclose(codes[:, 0, -1], [57, 64])  # pYIN's

  def fake_synthesize(model, played, **kwargs):
    # The first note plays whatever pitch it is given. The second plays its
    # own from its own code, and the pitch it is given from any other (as
    # from the note shifted there).
    def at(pitch, envelope):
      return harmonic_tone(440.0 * 2**((pitch - 69) / 12), envelope)
    own_code = np.allclose(played[1, :, :-1], codes[1, :, :-1], atol=1e-5)
    return np.stack([at(played[0, 0, -1], ENVELOPES[0]),
                     originals[1] if own_code else
                     at(played[1, 0, -1], ENVELOPES[1])])

  monkeypatch.setattr(evaluation, 'synthesize', fake_synthesize)
  scores, _ = evaluation.evaluate(model, originals, ['a', 'b'], [57, 64],
                                  follow_semitones=(-12, 7))
  assert [s.follows for s in scores] == [1.0, 0.0]
  assert [s.follows_shifted for s in scores] == [1.0, 1.0]
  assert evaluation.summary(scores)['follows'] == 0.5
  assert evaluation.summary(scores)['follows_shifted'] == 1.0
  # Unasked, or a model without pitch to move.
  scores, _ = evaluation.evaluate(model, originals, ['a', 'b'], [57, 64])
  assert all(math.isnan(s.follows) and math.isnan(s.follows_shifted)
             for s in scores)
  with pytest.raises(mw.MagentaWavenetError, match='not pitch-conditioned'):
    evaluation.evaluate(mw.NSynthAutoencoder('tiny'), originals, ['a', 'b'],
                        [57, 64], follow_semitones=(-12,))


def test_evaluate_command_refuses_a_move_that_is_not_a_number(capsys):
  status = evaluate.main(['evaluate', '--checkpoint_path', 'unused',
                          '--eval_path', 'unused', '--follow_semitones=-12,x'])
  assert status != 0
  assert '--follow_semitones must be integers, got -12,x' in (
      capsys.readouterr().err)


def test_evaluate_scores_expected_values_when_asked(monkeypatch):
  asked = []

  def fake(model, codes, **kwargs):
    asked.append(kwargs['expected_value'])
    return np.zeros([len(codes), 16000], np.float32)
  monkeypatch.setattr(evaluation, 'synthesize', fake)
  originals = np.stack([harmonic_tone(220.0, ENVELOPES[0], seconds=1.0)])
  model = mw.NSynthAutoencoder('tiny')
  for expected_value in (False, True):
    evaluation.evaluate(model, originals, ['a'], [57],
                        expected_value=expected_value)
  assert asked == [False, True]


def test_evaluate_can_score_the_resyntheses_after_the_harmonic_filter(
    monkeypatch):
  originals = np.stack([harmonic_tone(220.0, ENVELOPES[0], seconds=1.0),
                        harmonic_tone(330.0, ENVELOPES[2], seconds=1.0)])
  noisy = originals + white_noise(originals, 15)
  monkeypatch.setattr(evaluation, 'synthesize',
                      lambda model, codes, **kwargs: noisy)
  model = mw.NSynthAutoencoder('tiny')
  as_generated, audio = evaluation.evaluate(model, originals, ['a', 'b'],
                                            [57, 64])
  np.testing.assert_array_equal(audio, noisy)
  filtered, audio = evaluation.evaluate(model, originals, ['a', 'b'],
                                        [57, 64], harmonic_filter_db=20.0)
  assert not np.allclose(audio, noisy)
  for before, after in zip(as_generated, filtered):
    assert before.hnr_gap_db - after.hnr_gap_db > 10
    assert after.stft_distance < before.stft_distance
    assert after.partial == before.partial == '1'
