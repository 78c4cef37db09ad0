"""Trains the NSynth WaveNet autoencoder on NSynth-format TFRecords.

  python -m magenta_wavenet.train --train_path 'data/nsynth-train-*' \
      --logdir runs/h64 --config h64_bo16 --total_batch_size 8 --num_steps 2000

Run it again with the same --logdir to resume after an interrupt. With
TF_CONFIG set to a cluster of several workers it trains with
MultiWorkerMirroredStrategy (start the same command on every worker).
The averaged (EMA) weights are exported to --export_dir at the end.
"""

import logging
import sys

from absl import app
from absl import flags

from magenta_wavenet.data.reader import NoteFilter
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.training import trainer

FLAGS = flags.FLAGS
flags.DEFINE_string('train_path', None, 'Glob pattern(s) of training '
                    'TFRecords (comma-separated), plain or GZIP.')
flags.DEFINE_string('logdir', None, 'Checkpoints and TensorBoard events.')
flags.DEFINE_string('config', 'h64_bo16', 'Model preset.')
flags.DEFINE_integer('total_batch_size', 8, 'Examples per step, all workers.')
flags.DEFINE_integer('num_steps', 1000, 'Train until this step.')
flags.DEFINE_integer('crop_length', 6144, 'Samples per training crop.')
flags.DEFINE_float('lr_scale', 1.0, "Multiplies the reference's rates.")
flags.DEFINE_float('lr_step_scale', 1.0,
                   "Multiplies the reference's rate boundaries.")
flags.DEFINE_float('ema_decay', 0.9999, 'Decay of the weight average.')
flags.DEFINE_integer('seed', 0, 'Seed of initialization, data order, crops.')
flags.DEFINE_integer('save_every', 100, 'Steps between checkpoints.')
flags.DEFINE_integer('keep_checkpoints', 3, 'Checkpoints kept.')
flags.DEFINE_integer('log_every', 10, 'Steps between progress lines.')
flags.DEFINE_integer('eval_every', 500, 'Steps between audio summaries.')
flags.DEFINE_string('eval_path', None, 'TFRecords of the audio-summary note.')
flags.DEFINE_integer('eval_samples', 16000, 'Samples of that note.')
flags.DEFINE_integer('pitch_min', 0, 'Lowest MIDI pitch trained on.')
flags.DEFINE_integer('pitch_max', 127, 'Highest MIDI pitch trained on.')
flags.DEFINE_list('families', None, 'Instrument families trained on.')
flags.DEFINE_list('sources', None, 'Instrument sources trained on.')
flags.DEFINE_list('velocities', None, 'MIDI velocities trained on.')
flags.DEFINE_boolean('skip_corrupt', False,
                     'Skip damaged records (logged) instead of stopping.')
flags.DEFINE_boolean('xla', True, 'XLA-compile the loss and gradients.')
flags.DEFINE_enum('strategy', 'auto', ['auto', 'mirrored', 'multi_worker'],
                  'tf.distribute strategy; auto reads TF_CONFIG.')
flags.DEFINE_string('export_dir', None,
                    'Export folder of the averaged weights (logdir/export).')
flags.mark_flags_as_required(['train_path', 'logdir'])


def options_from_flags():
  """`TrainOptions` from the parsed flags."""
  note_filter = NoteFilter(
      pitch_range=(FLAGS.pitch_min, FLAGS.pitch_max),
      families=tuple(FLAGS.families) if FLAGS.families else None,
      sources=tuple(FLAGS.sources) if FLAGS.sources else None,
      velocities=(tuple(int(v) for v in FLAGS.velocities)
                  if FLAGS.velocities else None))
  return trainer.TrainOptions(
      train_path=FLAGS.train_path, logdir=FLAGS.logdir, config=FLAGS.config,
      total_batch_size=FLAGS.total_batch_size, num_steps=FLAGS.num_steps,
      crop_length=FLAGS.crop_length, lr_scale=FLAGS.lr_scale,
      lr_step_scale=FLAGS.lr_step_scale, ema_decay=FLAGS.ema_decay,
      seed=FLAGS.seed, save_every=FLAGS.save_every,
      keep_checkpoints=FLAGS.keep_checkpoints, log_every=FLAGS.log_every,
      eval_every=FLAGS.eval_every, eval_path=FLAGS.eval_path,
      eval_samples=FLAGS.eval_samples, note_filter=note_filter,
      skip_corrupt=FLAGS.skip_corrupt, jit_compile=FLAGS.xla,
      export_dir=FLAGS.export_dir)


def main(argv):
  del argv
  logging.getLogger().setLevel(logging.INFO)
  try:
    options = options_from_flags()
    loop = trainer.Trainer(options, trainer.make_strategy(FLAGS.strategy))
    loss = loop.train()
  except (MagentaWavenetError, ValueError) as error:
    sys.exit(f'error: {error}')
  if loss is not None:
    print(f'done: step {FLAGS.num_steps}, loss {loss:.4f} nats')


def run():
  app.run(main)


if __name__ == '__main__':
  run()
