"""Evaluation: the three measures and the evaluate command line."""

import json
import math

import numpy as np
import pytest
from test_train import write_notes

import magenta_wavenet as mw
from magenta_wavenet.cli import evaluate
from magenta_wavenet.pitch import f0
from magenta_wavenet.training import evaluation
from magenta_wavenet.training import metrics

RATE = 16000


def tone(frequency, seconds=0.5, amplitude=0.5):
  t = np.arange(int(seconds * RATE)) / RATE
  return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


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
  assert np.mean([n['nll_bits'] for n in scores['notes']]) == pytest.approx(
      scores['mean']['nll_bits'])


def test_evaluate_command_needs_eval_path(capsys):
  assert evaluate.main(['evaluate']) == 1
  assert '--eval_path is required' in capsys.readouterr().err
