"""Training: schedule, weight average, resume, export, summaries, the CLI."""

import glob
import os

import numpy as np
import pytest
import tensorflow as tf

import magenta_wavenet as mw
from magenta_wavenet import data
from magenta_wavenet.cli import train
from magenta_wavenet.model import ema
from magenta_wavenet.model.ema import WeightAverage
from magenta_wavenet.training import schedule
from magenta_wavenet.training import trainer


def write_notes(path, count=6, seed=0):
  """Tiny NSynth records: harmonic notes at a few pitches."""
  rng = np.random.default_rng(seed)
  t = np.arange(data.schema.NOTE_SAMPLES) / 16000.0
  examples = []
  for index in range(count):
    pitch = 48 + 5 * index
    frequency = 440.0 * 2**((pitch - 69) / 12)
    audio = 0.5 * np.sin(2 * np.pi * frequency * t) + 0.01 * rng.normal(
        size=t.shape)
    labels = data.NoteLabels('keyboard_acoustic_000', pitch, 100,
                             note=index)
    examples.append(data.make_example(np.clip(audio, -1, 1), labels))
  data.write_examples(path, examples)
  return path


@pytest.fixture(scope='module')
def train_file(tmp_path_factory):
  return write_notes(str(tmp_path_factory.mktemp('data') / 'train.tfrecord'))


def options(train_file, logdir, **changes):
  values = dict(train_path=train_file, logdir=str(logdir), config='tiny',
                total_batch_size=2, num_steps=4, crop_length=512,
                save_every=2, log_every=2, eval_every=4, eval_samples=640,
                lr_scale=5.0)
  values.update(changes)
  return trainer.TrainOptions(**values)


def test_reference_schedule_steps_and_scaling():
  rates = schedule.ReferenceSchedule()
  for step, rate in [(0, 2e-4), (89999, 2e-4), (90000, 4e-4 / 3),
                     (150000, 4e-5), (239999, 6e-6), (10**6, 2e-6)]:
    assert float(rates(step)) == pytest.approx(rate)
  short = schedule.ReferenceSchedule(scale=10.0, step_scale=0.01)
  assert float(short(899)) == pytest.approx(2e-3)
  assert float(short(900)) == pytest.approx(4e-3 / 3)


def test_ema_decay_warms_up_like_tf1():
  assert float(ema.ema_decay(0)) == pytest.approx(0.1)
  assert float(ema.ema_decay(90)) == pytest.approx(91 / 100)
  assert float(ema.ema_decay(10**7)) == pytest.approx(0.9999)


def test_weight_average_follows_the_formula():
  weight = tf.Variable([1.0, 2.0])
  average = WeightAverage([weight], decay=0.5)
  weight.assign([3.0, 6.0])
  average.update(tf.constant(100))  # decay min(0.5, 101/110) = 0.5
  np.testing.assert_allclose(average.values()[0], [2.0, 4.0])


@pytest.fixture(scope='module')
def straight(train_file, tmp_path_factory):
  """A 4-step run, uninterrupted."""
  loop = trainer.Trainer(options(train_file,
                                 tmp_path_factory.mktemp('straight')))
  loop.train()
  return loop


def test_resume_equals_an_uninterrupted_run(train_file, straight, tmp_path):
  trainer.Trainer(options(train_file, tmp_path, num_steps=2)).train()
  resumed = trainer.Trainer(options(train_file, tmp_path))
  assert resumed.restore() == 2
  resumed.train()
  assert int(resumed.step.numpy()) == 4
  for a, b in zip(straight.model.weights, resumed.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  for a, b in zip(straight.average.values(), resumed.average.values()):
    np.testing.assert_array_equal(a, b)


def test_export_holds_the_averaged_weights(straight):
  exported = mw.load_model(os.path.join(straight.options.logdir, 'export'))
  assert exported.config.name == 'tiny'
  for variable, value in zip(exported.trainable_variables,
                             straight.average.values()):
    np.testing.assert_array_equal(variable.numpy(), value)
  raw = [v.numpy() for v in straight.model.trainable_variables]
  assert any(not np.array_equal(a, b) for a, b in
             zip(raw, straight.average.values()))


def test_summaries_hold_scalars_and_audio(straight):
  tags = {}
  for path in glob.glob(os.path.join(straight.options.logdir,
                                     'events.out.tfevents.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        tags[value.tag] = value.metadata.plugin_data.plugin_name or tags.get(
            value.tag)
  for tag in ('loss', 'learning_rate', 'steps_per_second'):
    assert tags[tag] == 'scalars'
  assert tags['eval/teacher_forced_argmax'] == 'audio'
  assert tags['eval/resynthesis'] == 'audio'


def test_corrupt_record_names_the_file(train_file, tmp_path):
  broken = tmp_path / 'broken.tfrecord'
  content = open(train_file, 'rb').read()
  broken.write_bytes(content[:len(content) - 1000])  # mid-record
  loop = trainer.Trainer(options(str(broken), tmp_path / 'run',
                                 num_steps=50))
  with pytest.raises(mw.DataError, match='broken.tfrecord.*truncated'):
    loop.train()


def test_command_line_trains_and_resumes(train_file, tmp_path, capsys):
  command = ['train', '--train_path', train_file, '--logdir', str(tmp_path),
             '--config', 'tiny', '--total_batch_size', '2',
             '--crop_length', '512', '--save_every', '1', '--log_every', '1',
             '--eval_samples', '640']
  assert train.main(command + ['--num_steps', '1']) == 0
  assert 'step 1/1' in capsys.readouterr().out
  assert train.main(command + ['--num_steps', '2']) == 0
  out = capsys.readouterr().out
  assert 'step 2/2' in out and 'step 1/' not in out
  assert mw.load_model(tmp_path / 'export').config.name == 'tiny'


def test_command_line_reports_errors_in_one_line(tmp_path, capsys):
  assert train.main(['train', '--train_path', str(tmp_path / 'no-*'),
                     '--logdir', str(tmp_path)]) == 1
  assert 'no-*: no TFRecord file matches' in capsys.readouterr().err


@pytest.mark.parametrize('config', [
    'tiny',
    mw.get_config('tiny').replace(name='tiny_pitch', pitch_classes=128)])
def test_training_lowers_the_loss(train_file, tmp_path, config):
  """Eighty steps on six notes lower a fixed batch's loss by a fifth;
  a pitch-conditioned model learns from the records' pitch labels."""
  run = trainer.Trainer(options(train_file, tmp_path, config=config,
                                num_steps=80, save_every=80, log_every=80,
                                eval_every=80, lr_scale=25.0,
                                jit_compile=False))
  batch = next(iter(data.nsynth_dataset(train_file, 6, training=False,
                                        crop_length=512)))
  pitch = batch['pitch'] if run.config.pitch_classes else None

  def loss():
    return float(run.model.nll(batch['audio'], pitch))

  before = loss()
  run.train()
  after = loss()
  assert after < 0.8 * before, (before, after)
  loaded = mw.load_model(tmp_path)
  assert loaded.config == run.config
  for got, want in zip(loaded.weights, run.model.weights):
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_warm_start_begins_at_the_trained_weights_once(train_file, straight,
                                                       tmp_path):
  source = os.path.join(straight.options.logdir, 'export')
  trained = [v.numpy() for v in mw.load_model(source).trainable_variables]
  run = trainer.Trainer(options(train_file, tmp_path, num_steps=2,
                                warm_start=source))
  assert run.restore() == 0
  for variable, value in zip(run.model.trainable_variables, trained):
    np.testing.assert_array_equal(variable.numpy(), value)
  for average, value in zip(run.average.values(), trained):
    np.testing.assert_array_equal(average, value)
  run.train()
  after = [v.numpy() for v in run.model.trainable_variables]
  assert any(not np.array_equal(a, b) for a, b in zip(after, trained))
  # Resuming, the run's own checkpoint wins over the warm start.
  resumed = trainer.Trainer(options(train_file, tmp_path, num_steps=2,
                                    warm_start=source))
  assert resumed.restore() == 2
  for variable, value in zip(resumed.model.trainable_variables, after):
    np.testing.assert_array_equal(variable.numpy(), value)


def test_warm_start_needs_the_same_network(train_file, straight, tmp_path):
  source = os.path.join(straight.options.logdir, 'export')
  wider = mw.get_config('tiny').replace(name='tiny_wide', decoder_width=16)
  run = trainer.Trainer(options(train_file, tmp_path, config=wider,
                                warm_start=source))
  with pytest.raises(mw.ConfigError, match='the trained model has shape'):
    run.restore()


def test_input_noise_reaches_the_decoder_only():
  model = mw.NSynthAutoencoder('tiny')
  audio = tf.constant(np.random.default_rng(0).uniform(
      -0.5, 0.5, (2, 512)).astype(np.float32))
  inputs = model._network_input(audio)  # pylint: disable=protected-access
  clean = model.nll(audio)
  assert float(model.nll(audio, input_noise=0.0, noise_seed=(1, 2))) == float(
      clean)
  noisy = model.nll(audio, input_noise=0.02, noise_seed=(1, 2))
  assert float(noisy) != float(clean)
  assert float(model.nll(audio, input_noise=0.02, noise_seed=(1, 2))) == float(
      noisy)
  assert float(model.nll(audio, input_noise=0.02, noise_seed=(1, 3))) != float(
      noisy)
  noise = 0.02 * tf.random.stateless_normal(tf.shape(inputs), (1, 2))
  expected = model.decoder(inputs + noise, model.encoder(inputs))
  np.testing.assert_allclose(
      model.autoencode_input(inputs, input_noise=0.02, noise_seed=(1, 2)),
      expected, rtol=1e-6, atol=1e-6)


def test_a_noisy_run_resumes_as_if_uninterrupted(train_file, tmp_path):
  straight_run = trainer.Trainer(options(train_file, tmp_path / 'straight',
                                         input_noise=0.05, eval_every=100))
  straight_run.train()
  trainer.Trainer(options(train_file, tmp_path / 'resumed', num_steps=2,
                          input_noise=0.05, eval_every=100)).train()
  resumed = trainer.Trainer(options(train_file, tmp_path / 'resumed',
                                    input_noise=0.05, eval_every=100))
  resumed.train()
  for a, b in zip(straight_run.model.weights, resumed.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  quiet = trainer.Trainer(options(train_file, tmp_path / 'quiet',
                                  eval_every=100))
  quiet.train()
  assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in
             zip(straight_run.model.weights, quiet.model.weights))


def test_command_line_takes_the_warm_start_and_input_noise(train_file,
                                                           tmp_path):
  try:
    train.FLAGS(['train', '--train_path', train_file, '--logdir',
                 str(tmp_path), '--warm_start', 'h64_bo16_pitch',
                 '--input_noise', '0.02'])
    options = train.options_from_flags(train.FLAGS)
  finally:
    train.FLAGS.unparse_flags()
  assert (options.warm_start, options.input_noise) == ('h64_bo16_pitch', 0.02)
