"""The training loop: Adam, weight averaging, checkpoints, summaries, export.

`Trainer` builds the model, optimizer, weight average and step counter inside
a `tf.distribute` strategy's scope, reads batches with `data.nsynth_dataset`,
and saves everything in `tf.train.CheckpointManager` checkpoints. Resuming
restores the step and skips the batches the run already consumed (the reader
is deterministic given its seed), so an interrupted run (even `kill -9`)
continues where its last save left it.
"""

import dataclasses
import logging
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf

from magenta_wavenet.data import reader
from magenta_wavenet.errors import ConfigError
from magenta_wavenet.errors import DataError
from magenta_wavenet.model.autoencoder import NSynthAutoencoder
from magenta_wavenet.model.checkpoint import save_model
from magenta_wavenet.model.checkpoint import training_checkpoint
from magenta_wavenet.model.checkpoint import warm_start_weights
from magenta_wavenet.model.checkpoint import write_config
from magenta_wavenet.model.config import get_config
from magenta_wavenet.model.ema import WeightAverage
from magenta_wavenet.model.pretrained import load_model
from magenta_wavenet.sound import dsp
from magenta_wavenet.synthesis.generation import synthesize
from magenta_wavenet.training import summaries
from magenta_wavenet.training.schedule import ReferenceSchedule

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainOptions:
  """Everything a training run needs; the command line's flags.

  Attributes:
    train_path: Glob pattern(s) of training TFRecords.
    logdir: Checkpoints, TensorBoard events and the export go here.
    config: Preset name of the model.
    total_batch_size: Examples per step over all replicas and workers.
    num_steps: Train until the step counter reaches this.
    crop_length: Samples per training crop (6,144 as the reference).
    lr_scale: Multiplies the reference's learning rates.
    lr_step_scale: Multiplies the reference's learning-rate boundaries.
    ema_decay: Decay of the weight average (with the num_updates warm-up).
    seed: Seed of the weights' initialization, the data order and crops.
    save_every: Steps between checkpoints.
    keep_checkpoints: Checkpoints kept by the manager.
    log_every: Steps between progress lines and scalar summaries.
    eval_every: Steps between audio summaries of an evaluation note.
    eval_path: TFRecords of the evaluation note (default: train_path).
    eval_samples: Length of the evaluation note's centre crop.
    note_filter: A `data.NoteFilter` of the training notes.
    skip_corrupt: Skip damaged records instead of stopping.
    jit_compile: XLA-compile the loss and gradients.
    export_dir: Where the averaged weights are exported at the end (default
      logdir/export).
    warm_start: A trained model (a name or path, as `load_model` takes)
      whose weights, and their average, start a new run instead of seeded
      ones (`checkpoint.warm_start_weights`: `h64_bo16` can start
      `h64_bo16_pitch`); a run that resumes from its checkpoint ignores it.
    input_noise: Std of Gaussian noise on the decoder's input
      (`NSynthAutoencoder.autoencode_input`), drawn from (seed, step,
      replica), so a resumed run draws what an uninterrupted one would.
  """

  train_path: str
  logdir: str
  config: str = 'h64_bo16'
  total_batch_size: int = 8
  num_steps: int = 1000
  crop_length: int = reader.TRAIN_CROP
  lr_scale: float = 1.0
  lr_step_scale: float = 1.0
  ema_decay: float = 0.9999
  seed: int = 0
  save_every: int = 100
  keep_checkpoints: int = 3
  log_every: int = 10
  eval_every: int = 500
  eval_path: str = None
  eval_samples: int = 16000
  note_filter: reader.NoteFilter = None
  skip_corrupt: bool = False
  jit_compile: bool = True
  export_dir: str = None
  warm_start: str = None
  input_noise: float = 0.0


def make_strategy(name='auto'):
  """A `tf.distribute` strategy by name.

  'auto' picks MultiWorkerMirroredStrategy when TF_CONFIG lists several
  tasks, MirroredStrategy (all local GPUs, or the CPU) otherwise.
  """
  if name == 'auto':
    name = 'multi_worker' if _cluster_size() > 1 else 'mirrored'
  if name == 'multi_worker':
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == 'mirrored':
    return tf.distribute.MirroredStrategy()
  raise ConfigError(f'unknown strategy {name!r}; use auto, mirrored or '
                    'multi_worker.')


def _cluster_size():
  resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
  return sum(len(tasks) for tasks in resolver.cluster_spec().as_dict().values())


def _is_chief(strategy):
  resolver = getattr(strategy, 'cluster_resolver', None)
  if resolver is None or not resolver.task_type:
    return True
  return resolver.task_type == 'chief' or (
      resolver.task_type == 'worker' and resolver.task_id == 0 and
      'chief' not in resolver.cluster_spec().as_dict())


class Trainer:
  """Trains an `NSynthAutoencoder` under a `tf.distribute` strategy.

  Args:
    options: `TrainOptions`.
    strategy: A `tf.distribute.Strategy` (default: `make_strategy()`).
  """

  def __init__(self, options, strategy=None):
    self.options = options
    self.strategy = strategy or make_strategy()
    self.config = get_config(options.config)
    replicas = self.strategy.num_replicas_in_sync
    if options.total_batch_size % replicas:
      raise ConfigError(f'total_batch_size {options.total_batch_size} is not '
                        f'divisible by the {replicas} replicas.')
    self.files = reader.list_files(options.train_path)
    self.is_chief = _is_chief(self.strategy)
    keras.utils.set_random_seed(options.seed)  # same start on every worker
    with self.strategy.scope():
      self.model = NSynthAutoencoder(self.config)
      self.schedule = ReferenceSchedule(options.lr_scale, options.lr_step_scale)
      self.optimizer = keras.optimizers.Adam(self.schedule, epsilon=1e-8)
      self.optimizer.build(self.model.trainable_variables)
      self.average = WeightAverage(self.model.trainable_variables,
                                   options.ema_decay)
      self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
    self.checkpoint = training_checkpoint(
        self.model, self.average, optimizer=self.optimizer, step=self.step)
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, self._checkpoint_dir(), options.keep_checkpoints,
        step_counter=self.step)
    self.writer = (tf.summary.create_file_writer(options.logdir)
                   if self.is_chief else tf.summary.create_noop_writer())
    self._eval_note = self._eval_pitch = self._averaged = None
    self._train_step = tf.function(self._distributed_step)
    self._gradients = tf.function(self._loss_and_gradients,
                                  jit_compile=options.jit_compile)

  def _checkpoint_dir(self):
    # Non-chief workers must save too, into a scratch folder they delete.
    if self.is_chief:
      return self.options.logdir
    task_id = self.strategy.cluster_resolver.task_id
    return os.path.join(self.options.logdir, f'workertemp_{task_id}')

  def restore(self):
    """Restores the newest checkpoint, if any, or else takes the weights
    of `options.warm_start`; returns the step reached."""
    latest = tf.train.latest_checkpoint(self.options.logdir)
    if latest:
      self.checkpoint.restore(latest).assert_existing_objects_matched()
      logger.info('resumed from %s at step %d', latest, int(self.step.numpy()))
    elif self.options.warm_start:
      warm_start_weights(self.model, load_model(self.options.warm_start))
      self.average.restart()
      logger.info('started from the weights of %s', self.options.warm_start)
    return int(self.step.numpy())

  def _dataset(self, start_step):
    options = self.options

    def dataset_fn(context):
      batch = context.get_per_replica_batch_size(options.total_batch_size)
      dataset = reader.nsynth_dataset(
          self.files, batch, training=True, crop_length=options.crop_length,
          note_filter=options.note_filter, seed=options.seed,
          skip_corrupt=options.skip_corrupt,
          num_shards=context.num_input_pipelines,
          shard_index=context.input_pipeline_id, skip_batches=start_step)
      return dataset.map(
          lambda features: (features['audio'], features['pitch']))

    return self.strategy.distribute_datasets_from_function(dataset_fn)

  def _loss_and_gradients(self, audio, pitch, noise_seed):
    variables = self.model.trainable_variables
    with tf.GradientTape() as tape:
      loss = self.model.nll(audio, pitch, self.options.input_noise,
                            noise_seed)
      scaled = loss / self.strategy.num_replicas_in_sync
    return scaled, tape.gradient(scaled, variables)

  def _noise_seed(self):
    """The input noise's stateless seed: (seed, step * replicas + this
    replica), in replica context."""
    replicas = self.strategy.num_replicas_in_sync
    replica = tf.distribute.get_replica_context().replica_id_in_sync_group
    return tf.stack([tf.constant(self.options.seed, tf.int64),
                     self.step * replicas + tf.cast(replica, tf.int64)])

  def _distributed_step(self, audio, pitch):
    def replica_step(audio, pitch):
      scaled, gradients = self._gradients(audio, pitch, self._noise_seed())
      self.optimizer.apply_gradients(
          zip(gradients, self.model.trainable_variables))
      return scaled

    losses = self.strategy.run(replica_step, args=(audio, pitch))
    self.step.assign_add(1)
    self.average.update(self.step)
    return self.strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

  def train(self):
    """Trains to `options.num_steps`, saving, logging and exporting.

    The model's `config.json` is written beside the checkpoints, so that
    `load_model(logdir)` can load them.

    Returns:
      The last step's loss in nats (None if no step was needed).

    Raises:
      DataError: when a record is corrupt (naming the file) or no note
        passes the filters.
    """
    options = self.options
    start = self.restore()
    if self.is_chief:
      write_config(self.config, self._checkpoint_dir())
    iterator = iter(self._dataset(start))
    loss, last_time, last_step = None, time.time(), start
    while int(self.step.numpy()) < options.num_steps:
      try:
        audio, pitch = next(iterator)
      except StopIteration:
        raise DataError(f'{options.train_path}: no note passes the filters.'
                        ) from None
      except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
        raise reader.read_error(error, self.files) from error
      loss = float(self._train_step(audio, pitch))
      step = int(self.step.numpy())
      if not np.isfinite(loss):
        raise FloatingPointError(f'loss is {loss} at step {step}.')
      if step % options.log_every == 0 or step == options.num_steps:
        now = time.time()
        rate = (step - last_step) / max(now - last_time, 1e-9)
        self._log(step, loss, rate)
        last_time, last_step = now, step
      if step % options.save_every == 0 or step == options.num_steps:
        self.manager.save(checkpoint_number=step)
      if self.is_chief and (step % options.eval_every == 0 or
                            step == options.num_steps):
        self._write_audio(step)
    self.writer.flush()
    self.export(options.export_dir or os.path.join(options.logdir, 'export'))
    if not self.is_chief:
      shutil.rmtree(self._checkpoint_dir(), ignore_errors=True)
    return loss

  def _log(self, step, loss, steps_per_second):
    rate = float(self.schedule(step))
    examples = steps_per_second * self.options.total_batch_size
    with self.writer.as_default(step=step):
      summaries.scalar('loss', loss)
      summaries.scalar('loss_bits', loss / np.log(2.0))
      summaries.scalar('learning_rate', rate)
      summaries.scalar('steps_per_second', steps_per_second)
      summaries.scalar('examples_per_second', examples)
    if self.is_chief:
      print(f'step {step}/{self.options.num_steps}  loss {loss:.4f} nats  '
            f'lr {rate:.2e}  {steps_per_second:.3f} steps/s  '
            f'{examples:.2f} examples/s', flush=True)

  def averaged_model(self):
    """An `NSynthAutoencoder` holding the averaged (EMA) weights of now.

    The same model every call, updated in place, so the audio summaries
    reuse its compiled generation loops.
    """
    if self._averaged is None:
      self._averaged = NSynthAutoencoder(self.config)
    for variable, value in zip(self._averaged.trainable_variables,
                               self.average.values()):
      variable.assign(value)
    return self._averaged

  def export(self, folder):
    """Writes the averaged weights with `save_model` (chief only)."""
    if self.is_chief:
      save_model(self.averaged_model(), folder)
      logger.info('exported the averaged weights to %s', folder)

  def _write_audio(self, step):
    """Audio summaries of an evaluation note, by the averaged weights.

    'eval/resynthesis' is generated sample by sample from the note's code
    (temperature 1, seed = step); 'eval/teacher_forced_argmax' takes at each
    sample the most likely class given the true past samples.
    """
    if self._eval_note is None:
      length = dsp.trimmed_length(self.options.eval_samples,
                                  self.config.hop_length)
      dataset = reader.nsynth_dataset(
          self.options.eval_path or self.files, 1, training=False,
          crop_length=length)
      note = next(iter(dataset))
      self._eval_note = note['audio']
      self._eval_pitch = note['pitch'] if self.config.pitch_classes else None
    model = self.averaged_model()
    code = model.encode(self._eval_note, pitch=self._eval_pitch)
    logits = model.decoder_logits(self._eval_note, code)
    forced = dsp.mu_law_decode(dsp.from_class(tf.argmax(logits, -1)))
    sampled = synthesize(model, code, seed=step)
    rate = self.config.sample_rate
    with self.writer.as_default(step=step):
      summaries.audio('eval/original', self._eval_note, rate)
      summaries.audio('eval/resynthesis', sampled, rate)
      summaries.audio('eval/teacher_forced_argmax', forced, rate)
