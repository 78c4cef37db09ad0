"""MultiWorkerMirroredStrategy: two workers on 127.0.0.1 stay in step."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
from test_train import write_notes

WORKER = textwrap.dedent('''
    import sys
    import numpy as np
    from magenta_wavenet.training import trainer
    train_path, logdir, out = sys.argv[1:4]
    options = trainer.TrainOptions(
        train_path=train_path, logdir=logdir, config='tiny',
        total_batch_size=4, num_steps=3, crop_length=512, save_every=2,
        log_every=1, eval_every=3, eval_samples=640)
    loop = trainer.Trainer(options, trainer.make_strategy('auto'))
    assert loop.strategy.num_replicas_in_sync == 2, loop.strategy
    loop.train()
    np.savez(out, step=int(loop.step.numpy()),
             *[v.numpy() for v in loop.model.weights])
''')


def free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(('127.0.0.1', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def test_two_workers_finish_the_same_steps_with_identical_weights(tmp_path):
  train_path = write_notes(str(tmp_path / 'train.tfrecord'))
  script = tmp_path / 'worker.py'
  script.write_text(WORKER)
  workers = [f'127.0.0.1:{port}' for port in free_ports(2)]
  processes = []
  for index in range(2):
    tf_config = {'cluster': {'worker': workers},
                 'task': {'type': 'worker', 'index': index}}
    env = dict(os.environ, TF_CONFIG=json.dumps(tf_config),
               TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='')
    processes.append(subprocess.Popen(
        [sys.executable, str(script), train_path, str(tmp_path / 'run'),
         str(tmp_path / f'weights_{index}.npz')],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
  try:
    outputs = [process.communicate(timeout=240)[0] for process in processes]
  finally:
    for process in processes:
      process.kill()
  for process, output in zip(processes, outputs):
    assert process.returncode == 0, output[-3000:]
  assert 'step 3/3' in outputs[0]  # the chief prints progress
  chief, other = (np.load(tmp_path / f'weights_{i}.npz') for i in range(2))
  assert int(chief['step']) == int(other['step']) == 3
  names = [name for name in chief.files if name != 'step']
  assert len(names) == len(other.files) - 1 > 0
  for name in names:
    np.testing.assert_array_equal(chief[name], other[name])
  assert os.path.isdir(tmp_path / 'run' / 'export')
  assert not os.path.exists(tmp_path / 'run' / 'workertemp_1')
