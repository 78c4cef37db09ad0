r"""Trains the NSynth WaveNet autoencoder on NSynth-format TFRecords.

  python -m magenta_wavenet train --train_path 'data/nsynth-train-*' \
      --logdir runs/h64 --config h64_bo16 --total_batch_size 8 --num_steps 2000

Run it again with the same --logdir to resume after an interrupt. To go on
training a shipped model (here on the CPU, with the noise its recipe used):

  python -m magenta_wavenet train --train_path 'data/nsynth-train-*' \
      --logdir runs/pitch --config h64_bo16_pitch --warm_start h64_bo16_pitch \
      --input_noise 0.02 --lr_scale 0.25

With
TF_CONFIG set to a cluster of several workers it trains with
MultiWorkerMirroredStrategy (start the same command on every worker).
The averaged (EMA) weights are exported to --export_dir at the end;
--num_steps 0 exports the newest checkpoint without training.
Other commands take --checkpoint_path=<logdir> to use the newest checkpoint
of a run, even while it trains (raw weights; the export holds the averaged).
"""

from absl import flags

from magenta_wavenet.cli import common
from magenta_wavenet.data.reader import TRAIN_CROP
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.training import trainer

FLAGS = common.new_flags()


def _define(kind, name, default, help_text, **kwargs):
  getattr(flags, f'DEFINE_{kind}')(name, default, help_text,
                                   flag_values=FLAGS, **kwargs)


_define('string', 'train_path', None, 'Glob pattern(s) of training TFRecords '
        '(comma-separated), plain or GZIP.')
_define('string', 'logdir', None, 'Checkpoints and TensorBoard events.')
_define('string', 'config', 'h64_bo16', 'Model preset.')
_define('integer', 'total_batch_size', 8, 'Examples per step, all workers.',
        lower_bound=1)
_define('integer', 'num_steps', 1000, 'Train until this step.', lower_bound=0)
_define('integer', 'crop_length', TRAIN_CROP, 'Samples per training crop.')
_define('float', 'lr_scale', 1.0, "Multiplies the reference's rates.")
_define('float', 'lr_step_scale', 1.0,
        "Multiplies the reference's rate boundaries.")
_define('float', 'ema_decay', 0.9999, 'Decay of the weight average.')
_define('integer', 'seed', 0, 'Seed of initialization, data order, crops.')
_define('integer', 'save_every', 100, 'Steps between checkpoints.',
        lower_bound=1)
_define('integer', 'keep_checkpoints', 3, 'Checkpoints kept.', lower_bound=1)
_define('integer', 'log_every', 10, 'Steps between progress lines.',
        lower_bound=1)
_define('integer', 'eval_every', 500, 'Steps between audio summaries.',
        lower_bound=1)
_define('string', 'eval_path', None, 'TFRecords of the audio-summary note.')
_define('integer', 'eval_samples', 16000, 'Samples of that note.')
common.define_note_filter_flags(FLAGS, 'trained on')
_define('boolean', 'skip_corrupt', False,
        'Skip damaged records (logged) instead of stopping.')
_define('boolean', 'xla', True, 'XLA-compile the loss and gradients.')
flags.DEFINE_enum('strategy', 'auto', ['auto', 'mirrored', 'multi_worker'],
                  'tf.distribute strategy; auto reads TF_CONFIG.',
                  flag_values=FLAGS)
_define('string', 'export_dir', None,
        'Export folder of the averaged weights (default logdir/export).')
_define('string', 'warm_start', None, 'A trained model (name or path) whose '
        'weights start a new run, e.g. h64_bo16_pitch to train it on.')
_define('float', 'input_noise', 0.0, "Std of Gaussian noise on the decoder's "
        'input (0.02: the shipped pitch model\'s recipe); targets stay clean.',
        lower_bound=0.0)


def options_from_flags(flag_values):
  """`TrainOptions` from the parsed flags."""
  for name in ('train_path', 'logdir'):
    if not flag_values[name].value:
      raise MagentaWavenetError(f'--{name} is required.')
  note_filter = common.note_filter(flag_values)
  names = ('train_path', 'logdir', 'config', 'total_batch_size', 'num_steps',
           'crop_length', 'lr_scale', 'lr_step_scale', 'ema_decay', 'seed',
           'save_every', 'keep_checkpoints', 'log_every', 'eval_every',
           'eval_path', 'eval_samples', 'skip_corrupt', 'export_dir',
           'warm_start', 'input_noise')
  return trainer.TrainOptions(
      note_filter=note_filter, jit_compile=flag_values.xla,
      **{name: flag_values[name].value for name in names})


def _body(flag_values):
  options = options_from_flags(flag_values)
  loop = trainer.Trainer(options, trainer.make_strategy(flag_values.strategy))
  loss = loop.train()
  if loss is not None:
    print(f'done: step {options.num_steps}, loss {loss:.4f} nats')


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
