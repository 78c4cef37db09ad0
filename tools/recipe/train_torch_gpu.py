r"""GPU training of an h64 NSynth autoencoder in PyTorch, same maths and
weight names as magenta_wavenet (weights kept in the Keras layout
[k, in, out] under the published checkpoint names).

Needs PyTorch and numpy only. It reads the folder `prepare_inputs` wrote
(--inputs, `inputs_folder`): `classes.npy.xz` (uint8 [notes, samples]
mu-law classes), `pitch.npy` (int16 [notes] MIDI pitches), `config.json`
(the preset: widths, layers, stages, hop, pitch classes), `init.npz`
(seeded Keras weights) and `expect.npz` (the Keras logits of a probe with
`init.npz`). A new run first checks that this port's float32 logits of that
probe equal Keras's; a resumed one (--state) reads neither `init.npz` nor
`expect.npz`.

A pitch-conditioned preset (`pitch_classes` 128, h64_bo16_pitch) feeds its
cond_map layers the code with the note's one-hot MIDI pitch appended, as
`WaveNetDecoder.conditioning` does. For it, --pitch_shift and
--pitch_dropout teach the decoder to take the pitch it plays from that
input rather than from the code (`PitchAugmentation`); they read the
inputs' `mu_law.npz`.

It writes into --out (each file atomically, each under the 16 MiB a GPU
call brings back for the h64 presets): `ema.npz` (averaged weights, the
layout of `init.npz`), `config.json` (copied), `state.pt` (weights, average,
step, random generator, loss history) and `opt.pt` (Adam's state), which
--state reads to go on, `history.json`, and at the end `probe.npz`
('classes' uint8 [2, 2048], 'pitch' int16 [2], float32 'logits'
[2, 2048, 256] of the averaged weights) for `convert.py`. All but
`probe.npz` are also rewritten every --save_minutes, so a run killed mid-way
keeps its progress.

Usage:

  python train_torch_gpu.py --inputs recipe_inputs --config h64_bo16_pitch \
      --out run1 --minutes 10
  python train_torch_gpu.py --inputs recipe_inputs --config h64_bo16_pitch \
      --state run1 --out run2 --minutes 10   # the next GPU session
  python train_torch_gpu.py --inputs recipe_inputs --config h64_bo16_pitch \
      --pitch_shift 12 --pitch_dropout 0.1 --out run3 --minutes 10
"""

import argparse
import json
import os
import shutil
import time

from inputs_folder import CLASSES_FILE
from inputs_folder import EXPECT_FILE
from inputs_folder import INIT_FILE
from inputs_folder import MU_LAW_FILE
from inputs_folder import PITCH_FILE
from inputs_folder import PROBE_LENGTH
from inputs_folder import PROBE_NOTES
from inputs_folder import PROBE_START
from inputs_folder import read_classes
from inputs_folder import shift_tables
import numpy as np
import torch
import torch.nn.functional as F

CONFIG_FILE = 'config.json'  # checkpoint.CONFIG_FILE, which needs TensorFlow
STATE_FILE = 'state.pt'
OPT_FILE = 'opt.pt'
EMA_FILE = 'ema.npz'
PROBE_FILE = 'probe.npz'
HISTORY_FILE = 'history.json'
# Largest max |torch - keras| of the probe logits at init, as a fraction of
# the largest logit (at least 1): trained starting weights give logits of
# several hundred.
PORT_TOLERANCE = 1e-5
LOSS_EVERY = 25  # steps between the losses kept in the history
PRINT_EVERY = 500


def conv(x, w, b, dilation=1, causal=True):
  """A Keras `DilatedConv1D`: x [B, in, T] -> [B, out, T].

  Args:
    x: [batch, in, time].
    w: Kernel [k, in, out] (Keras layout).
    b: Bias [out].
    dilation: Dilation of the k taps.
    causal: Pad (k - 1) * dilation on the left; else half on each side.
  """
  k = w.shape[0]
  weight = w.permute(2, 1, 0)
  if k == 1:
    return F.conv1d(x, weight, b)
  span = (k - 1) * dilation
  pad = (span, 0) if causal else (span // 2, span // 2)
  return F.conv1d(F.pad(x, pad), weight, b, dilation=dilation)


def layer(p, name, x, dilation=1, causal=True):
  """The convolution called `name` ('dilatedconv_3') of the weights `p`."""
  return conv(x, p[name + '/W'], p[name + '/biases'], dilation, causal)


def dilations(layers, stages):
  """1, 2, ..., 2^(stages - 1), 1, 2, ... for `layers` layers."""
  return [2 ** (i % stages) for i in range(layers)]


def encode(p, cfg, inp):
  """Network input [B, T] (q / 128) -> code [B, bottleneck, T // hop]."""
  h = layer(p, 'ae_startconv', inp[:, None], causal=False)
  for i, d in enumerate(
      dilations(cfg['encoder_layers'], cfg['encoder_stages']), 1):
    z = F.relu(layer(p, f'ae_dilatedconv_{i}', F.relu(h), d, causal=False))
    h = h + layer(p, f'ae_res_{i}', z)
  code = layer(p, 'ae_bottleneck', h)
  b, c, t = code.shape
  hop = cfg['hop_length']
  return code.reshape(b, c, t // hop, hop).mean(-1)


def conditioning(cfg, code, pitch, keep=None):
  """What the cond_map layers read, as `WaveNetDecoder.conditioning`.

  Args:
    cfg: The config dict.
    code: [B, bottleneck, frames].
    pitch: Integer [B] MIDI pitches in [0, 127]; unused without pitch
      classes.
    keep: Optional bool [B]: rows without it hear no pitch (an all-zero
      one-hot; pitch dropout).

  Returns:
    `code`, or [B, bottleneck + pitch_classes, frames]: the code, then the
    one-hot pitch in every frame.
  """
  if not cfg['pitch_classes']:
    return code
  one_hot = F.one_hot(pitch.long(), cfg['pitch_classes']).to(code.dtype)
  if keep is not None:
    one_hot = one_hot * keep[:, None].to(code.dtype)
  return torch.cat(
      [code, one_hot[:, :, None].expand(-1, -1, code.shape[2])], dim=1)


def spread(x, hop, t):
  """Holds frame f for samples f * hop .. (f + 1) * hop - 1: [B, C, t]."""
  return torch.repeat_interleave(x, hop, dim=2)[:, :, :t]


def decode(p, cfg, inp, cond):
  """Teacher-forced logits [B, 256, T] of input [B, T] given cond."""
  t = inp.shape[1]
  hop = cfg['hop_length']
  width = cfg['decoder_width']
  shifted = F.pad(inp, (1, 0))[:, :-1]
  residual = layer(p, 'startconv', shifted[:, None])
  s = layer(p, 'skip_start', residual)
  for i, d in enumerate(
      dilations(cfg['decoder_layers'], cfg['decoder_stages']), 1):
    z = layer(p, f'dilatedconv_{i}', residual, d) + spread(
        layer(p, f'cond_map_{i}', cond), hop, t)
    g = torch.sigmoid(z[:, :width]) * torch.tanh(z[:, width:])
    residual = residual + layer(p, f'res_{i}', g)
    s = s + layer(p, f'skip_{i}', g)
  h = layer(p, 'out1', F.relu(s)) + spread(
      layer(p, 'cond_map_out1', cond), hop, t)
  return layer(p, 'logits', F.relu(h))


def logits_of(p, cfg, classes, pitch, input_noise=0.0, generator=None):
  """The autoencoder's logits of mu-law classes, as Keras `model(audio)`.

  Args:
    p: Weights by checkpoint name.
    cfg: The config dict.
    classes: Integer [B, T] mu-law classes q + 128, T a multiple of the hop.
    pitch: Integer [B] MIDI pitches (used by a pitch-conditioned preset).
    input_noise: Std of Gaussian noise added to the decoder's input q / 128
      (the encoder hears the clean input); 0 for none.
    generator: `torch.Generator` of that noise.

  Returns:
    Logits [B, 256, T] of each sample given the earlier ones.
  """
  cond = conditioning(cfg, encode(p, cfg, network_input(classes)), pitch)
  return teacher_forced(p, cfg, classes, cond, input_noise, generator)


def network_input(classes):
  """Mu-law classes q + 128 -> the networks' input q / 128, float32."""
  return (classes.long() - 128).float() / 128.0


def teacher_forced(p, cfg, classes, cond, input_noise=0.0, generator=None):
  """The decoder's logits [B, 256, T] of classes [B, T] given `cond`.

  `input_noise` and `generator` as in `logits_of`.
  """
  inp = network_input(classes)
  if input_noise:
    inp = inp + input_noise * torch.randn(
        inp.shape, generator=generator, device=inp.device)
  return decode(p, cfg, inp, cond)


class PitchAugmentation:
  """Training rows whose note is played at another pitch than recorded.

  A shifted row's decoder hears, and is trained to predict, its crop
  resampled `n` semitones up or down (`inputs_folder.shift_reads`), with the
  pitch n semitones off the note's; its code is the encoder's code of the
  original audio, interpolated in time onto the resampled crop's frames
  (`shift_frames`). So the code still says the recorded pitch and only the
  pitch input says the one to play: the decoder must learn to take the
  pitch from it. Pitch dropout: a row hears no pitch at all (an all-zero
  one-hot), so that the decoder also learns the code alone.

  Every row's encoder hears the same span of `source` samples; the crop
  the decoder hears starts one hop into it.
  """

  def __init__(self, args, cfg, mu_law, dev):
    """Tables on `dev` for --pitch_shift semitones and a --crop crop.

    Args:
      args: The flags (`pitch_shift`, `shift_share`, `pitch_dropout`,
        `crop`).
      cfg: The config dict (hop and pitch classes).
      mu_law: `mu_law.npz` of the inputs: 'audio' [256], 'bounds' [255].
      dev: The torch device.
    """
    tables = shift_tables(args.pitch_shift, args.crop, cfg['hop_length'])
    self.tables = {name: torch.from_numpy(tables[name]).to(dev)
                   for name in ('first', 'weights', 'lower', 'fraction')}
    self.source = int(tables['source'])
    self.audio = torch.from_numpy(mu_law['audio']).to(dev)
    self.bounds = torch.from_numpy(mu_law['bounds']).to(dev)
    self.args = args
    self.pitch_classes = cfg['pitch_classes']

  def draw(self, pitch, generator):
    """Each row's shift in semitones and whether it hears its pitch.

    Args:
      pitch: Integer [B] the notes' MIDI pitches.
      generator: The run's `torch.Generator`.

    Returns:
      (shift, keep): int64 [B], 0 or a whole number of semitones within
      +-S that keeps the pitch in [0, pitch_classes); bool [B].
    """
    rows = pitch.shape[0]
    dev = pitch.device
    size = self.args.pitch_shift
    shift = torch.zeros(rows, dtype=torch.long, device=dev)
    if size:
      shifted = torch.rand(rows, generator=generator,
                           device=dev) < self.args.shift_share
      step = torch.randint(1, size + 1, (rows,), generator=generator,
                           device=dev)
      down = torch.rand(rows, generator=generator, device=dev) < 0.5
      shift = torch.where(shifted, torch.where(down, -step, step), shift)
      shift = torch.clamp(shift, -pitch, self.pitch_classes - 1 - pitch)
    keep = torch.ones(rows, dtype=torch.bool, device=dev)
    if self.args.pitch_dropout:
      keep = torch.rand(rows, generator=generator,
                        device=dev) >= self.args.pitch_dropout
    return shift, keep

  def logits(self, p, cfg, source, pitch, shift, keep, input_noise, gen):
    """Logits and targets of rows played `shift` semitones off.

    Args:
      p: Weights by checkpoint name.
      cfg: The config dict.
      source: Integer [B, source] mu-law classes of the recorded spans.
      pitch: Integer [B] their notes' MIDI pitches.
      shift, keep: From `draw`.
      input_noise, gen: As in `logits_of`.

    Returns:
      (logits [B, 256, crop], targets int64 [B, crop]): the decoder's logits
      of the resampled crops, and those crops' classes.
    """
    index = shift + self.args.pitch_shift
    first = self.tables['first'][index]
    weights = self.tables['weights'][index]
    rows, crop, taps = weights.shape
    reads = (first[:, :, None] + torch.arange(taps, device=first.device))
    audio = self.audio[source.long()].gather(1, reads.reshape(rows, -1))
    played = (audio.reshape(rows, crop, taps) * weights).sum(-1)
    targets = torch.bucketize(played, self.bounds, right=True)
    code = encode(p, cfg, network_input(source))
    lower = self.tables['lower'][index][:, None].expand(-1, code.shape[1], -1)
    fraction = self.tables['fraction'][index][:, None].to(code.dtype)
    upper = torch.clamp(lower + 1, max=code.shape[2] - 1)
    code = (code.gather(2, lower) * (1 - fraction) +
            code.gather(2, upper) * fraction)
    cond = conditioning(cfg, code, pitch + shift, keep)
    return teacher_forced(p, cfg, targets, cond, input_noise, gen), targets


def set_tf32(enabled):
  """TF32 matmuls and convolutions (CUDA only) on or off."""
  torch.backends.cuda.matmul.allow_tf32 = enabled
  torch.backends.cudnn.allow_tf32 = enabled


def float32_logits(p, cfg, classes, pitch):
  """Full float32 logits (no TF32), numpy [B, T, 256], as the probes."""
  set_tf32(False)
  with torch.no_grad():
    logits = logits_of(p, cfg, classes, pitch).permute(0, 2, 1).cpu().numpy()
  set_tf32(True)
  return logits


def check_port(cfg, init, expect, dev):
  """Stops unless this port's logits of the Keras probe are Keras's.

  Args:
    cfg: The config dict.
    init: The `init.npz` weights `expect` was made with.
    expect: `expect.npz`: 'classes', 'pitch', 'logits' [B, T, 256].
    dev: The torch device.
  """
  p = {n: torch.tensor(init[n], device=dev) for n in init.files}
  got = float32_logits(p, cfg, torch.from_numpy(expect['classes']).to(dev),
                       torch.from_numpy(expect['pitch']).to(dev))
  diff = np.abs(got - expect['logits']).max()
  scale = max(np.abs(expect['logits']).max(), 1.0)
  print(f'max |torch - keras| logits at init: {diff:.3g} (largest logit '
        f'{scale:.3g})', flush=True)
  if not diff <= PORT_TOLERANCE * scale:
    raise SystemExit('torch port differs from the Keras model')


def atomic_save(path, save):
  """Calls `save(temporary path)`, then renames it onto `path`."""
  temporary = path + '.partial'
  save(temporary)
  os.replace(temporary, path)


def save_run(out, p, ema, opt, gen, state):
  """Writes ema.npz, opt.pt, state.pt and history.json into `out`.

  Args:
    out: The run folder.
    p: Trained weights by checkpoint name.
    ema: Their averages by name.
    opt: The Adam optimizer.
    gen: The `torch.Generator` of the crops and the input noise.
    state: Dict with 'config', 'step', 'elapsed_s', 'history', 'args'
      (also written to history.json).
  """
  def save_ema(path):
    with open(path, 'wb') as handle:
      np.savez(handle, **{n: ema[n].detach().cpu().numpy() for n in ema})

  def save_opt(path):
    torch.save({'step': state['step'], 'opt': opt.state_dict()}, path)

  def save_state(path):
    torch.save({'params': {n: p[n].detach() for n in p}, 'ema': ema,
                'generator': gen.get_state(), **state}, path)

  def save_history(path):
    with open(path, 'w') as handle:
      json.dump(state, handle)

  atomic_save(os.path.join(out, EMA_FILE), save_ema)
  atomic_save(os.path.join(out, OPT_FILE), save_opt)
  atomic_save(os.path.join(out, STATE_FILE), save_state)
  atomic_save(os.path.join(out, HISTORY_FILE), save_history)


def trainable(arrays, dev):
  """Weights by name (arrays or tensors) -> float32 leaves on `dev`."""
  return {n: torch.as_tensor(arrays[n], dtype=torch.float32, device=dev)
          .detach().clone().requires_grad_() for n in sorted(arrays)}


def start_run(args, cfg, dev):
  """The weights, average, optimizer, generator and state a session starts at.

  Args:
    args: The parsed flags.
    cfg: The config dict of the inputs.
    dev: The torch device.

  Returns:
    (p, ema, opt, gen, state): weights and their averages by name, Adam, the
    `torch.Generator`, and the state dict of `save_run` (step 0 for a new
    run; what --state saved for a resumed one).
  """
  state = {'config': cfg, 'step': 0, 'elapsed_s': 0.0, 'history': []}
  gen = torch.Generator(device=dev)
  if not args.state:
    with np.load(os.path.join(args.inputs, INIT_FILE)) as init, np.load(
        os.path.join(args.inputs, EXPECT_FILE)) as expect:
      check_port(cfg, init, expect, dev)
    with np.load(args.init or os.path.join(args.inputs, INIT_FILE)) as start:
      p = trainable(start, dev)
    gen.manual_seed(args.seed)
    return p, {n: p[n].detach().clone() for n in p}, torch.optim.Adam(
        p.values(), lr=args.lr, eps=1e-8), gen, state
  saved = torch.load(os.path.join(args.state, STATE_FILE), map_location=dev)
  adam = torch.load(os.path.join(args.state, OPT_FILE), map_location=dev)
  if saved['config'] != cfg:
    raise SystemExit(f'{args.state} trains {saved["config"]["name"]}, with '
                     f'another config than {args.inputs}')
  if adam['step'] != saved['step']:
    raise SystemExit(f'{args.state}: {OPT_FILE} is of step {adam["step"]}, '
                     f'{STATE_FILE} of step {saved["step"]}')
  p = trainable(saved['params'], dev)
  opt = torch.optim.Adam(p.values(), lr=args.lr, eps=1e-8)
  opt.load_state_dict(adam['opt'])
  gen.set_state(saved['generator'].cpu())
  state.update({key: saved[key] for key in ('step', 'elapsed_s', 'history')})
  print('resumed at step', state['step'], flush=True)
  return p, saved['ema'], opt, gen, state


def augmentation_of(args, cfg, length, dev):
  """The run's `PitchAugmentation`, or None without --pitch_shift or
  --pitch_dropout; stops with one line where it cannot run.

  Args:
    args: The parsed flags.
    cfg: The config dict of the inputs.
    length: Samples of each note in the inputs.
    dev: The torch device.
  """
  if not (args.pitch_shift or args.pitch_dropout):
    return None
  if not cfg['pitch_classes']:
    raise SystemExit(f'--pitch_shift and --pitch_dropout need a pitch '
                     f'preset; {cfg["name"]} hears no pitch')
  if not 0 <= args.pitch_shift <= 24:
    raise SystemExit('--pitch_shift must be 0 to 24 semitones')
  if not (0 <= args.shift_share <= 1 and 0 <= args.pitch_dropout < 1):
    raise SystemExit('--shift_share must be in [0, 1], --pitch_dropout in '
                     '[0, 1)')
  path = os.path.join(args.inputs, MU_LAW_FILE)
  if not os.path.exists(path):
    raise SystemExit(f'{args.inputs} has no {MU_LAW_FILE}, which pitch '
                     'augmentation needs: run prepare_inputs again')
  with np.load(path) as mu_law:
    augmentation = PitchAugmentation(args, cfg, mu_law, dev)
  if augmentation.source > length:
    raise SystemExit(f'--pitch_shift {args.pitch_shift} with --crop '
                     f'{args.crop} reads {augmentation.source} samples a '
                     f'row; the notes of {args.inputs} have {length}')
  return augmentation


def parse_args(argv=None):
  """The flags (`--help` describes them)."""
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  parser.add_argument('--inputs', required=True,
                      help="prepare_inputs' folder")
  parser.add_argument('--config', required=True,
                      help='preset trained (h64_bo16 or h64_bo16_pitch): '
                      "must be that of the inputs' config.json")
  parser.add_argument('--out', required=True, help='run folder written')
  parser.add_argument('--init', default='',
                      help='starting weights (.npz, layout of init.npz, '
                      "e.g. a run's ema.npz); default the inputs' init.npz")
  parser.add_argument('--state', default='',
                      help="a previous session's --out folder: go on from "
                      'its state.pt and opt.pt (then --init, --seed, '
                      "init.npz and expect.npz are not read)")
  parser.add_argument('--minutes', type=float, default=8.0,
                      help='training time of this session (setup and '
                      'saving come on top, about a minute)')
  parser.add_argument('--save_minutes', type=float, default=5.0,
                      help='minutes between saves while training')
  parser.add_argument('--batch', type=int, default=32)
  parser.add_argument('--crop', type=int, default=6144)
  parser.add_argument('--total_steps', type=int, default=30000,
                      help='length of the run, over all sessions (it sets '
                      'the learning-rate steps)')
  parser.add_argument('--total_minutes', type=float, default=0.0,
                      help='if > 0, the length of the run in training '
                      'minutes over all sessions instead: the rate steps '
                      'and the end follow the time trained, for a run that '
                      'shares a GPU or whose speed is not known ahead')
  parser.add_argument('--lr', type=float, default=1e-3)
  parser.add_argument('--input_noise', type=float, default=0.0,
                      help='std of Gaussian noise added to the decoder '
                      'input q / 128 in training (1/128 is one mu-law '
                      'step); targets unchanged')
  parser.add_argument('--pitch_shift', type=int, default=0,
                      help='pitch augmentation: up to this many semitones '
                      'either way (PitchAugmentation); 0 for none. Needs a '
                      "pitch preset and the inputs' mu_law.npz")
  parser.add_argument('--shift_share', type=float, default=0.5,
                      help='with --pitch_shift, the share of rows shifted')
  parser.add_argument('--pitch_dropout', type=float, default=0.0,
                      help='share of rows that hear no pitch (a pitch '
                      'preset only); 0 for none')
  parser.add_argument('--seed', type=int, default=0,
                      help='seed of the crops and noise of a new run (a '
                      'resumed one goes on with its saved generator)')
  parser.add_argument('--device', default='cuda',
                      help='torch device; bfloat16 autocast on cuda only')
  return parser.parse_args(argv)


def main(argv=None):
  """Trains one session of a run; see the module docstring."""
  args = parse_args(argv)
  dev = torch.device(args.device)
  torch.backends.cudnn.benchmark = True
  set_tf32(True)
  with open(os.path.join(args.inputs, CONFIG_FILE)) as handle:
    cfg = json.load(handle)
  if cfg['name'] != args.config:
    raise SystemExit(f'{args.inputs} was prepared for {cfg["name"]}, not '
                     f'--config {args.config}')
  if args.crop % cfg['hop_length']:
    raise SystemExit(f'--crop must be a multiple of {cfg["hop_length"]}')
  data = torch.from_numpy(read_classes(os.path.join(args.inputs,
                                                   CLASSES_FILE))).to(dev)
  augmentation = augmentation_of(args, cfg, data.shape[1], dev)
  pitch = torch.from_numpy(np.load(os.path.join(args.inputs, PITCH_FILE)))
  pitch = pitch.long().to(dev)
  p, ema, opt, gen, state = start_run(args, cfg, dev)
  state['args'] = vars(args)

  def done(s, elapsed_s):
    # The fraction of the run behind at step s, after elapsed_s seconds.
    if args.total_minutes > 0:
      return elapsed_s / (60 * args.total_minutes)
    return s / args.total_steps

  def rate(f):
    # The reference's steps, scaled: lr until 45% of the run, then down.
    for frac, mult in ((0.85, 0.1), (0.7, 0.2), (0.45, 0.5)):
      if f >= frac:
        return args.lr * mult
    return args.lr

  os.makedirs(args.out, exist_ok=True)
  shutil.copyfile(os.path.join(args.inputs, CONFIG_FILE),
                  os.path.join(args.out, CONFIG_FILE))
  step = state['step']
  n, length = data.shape
  span = augmentation.source if augmentation else args.crop  # a row's read
  start = time.time()
  deadline = start + args.minutes * 60
  next_save = start + args.save_minutes * 60
  fraction = done(step, state['elapsed_s'])
  while time.time() < deadline and fraction < 1:
    rows = torch.randint(0, n, (args.batch,), device=dev, generator=gen)
    offs = torch.randint(0, length - span + 1, (args.batch,),
                         device=dev, generator=gen)
    idx = offs[:, None] + torch.arange(span, device=dev)[None]
    batch = data[rows[:, None], idx]
    for group in opt.param_groups:
      group['lr'] = rate(fraction)
    with torch.autocast(dev.type, dtype=torch.bfloat16,
                        enabled=dev.type == 'cuda'):
      if augmentation:
        shift, keep = augmentation.draw(pitch[rows], gen)
        logits, batch = augmentation.logits(p, cfg, batch, pitch[rows], shift,
                                            keep, args.input_noise, gen)
      else:
        logits = logits_of(p, cfg, batch, pitch[rows], args.input_noise, gen)
    loss = F.cross_entropy(logits.float(), batch.long())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    step += 1
    decay = min(0.9999, (1 + step) / (10 + step))
    with torch.no_grad():
      averages = [ema[name] for name in p]
      torch._foreach_mul_(averages, decay)
      torch._foreach_add_(averages, [p[name].detach() for name in p],
                          alpha=1 - decay)
    now = time.time()
    fraction = done(step, state['elapsed_s'] + now - start)
    if step % LOSS_EVERY == 0:
      state['history'].append(
          (step, loss.item(), state['elapsed_s'] + now - start))
    if step % PRINT_EVERY == 0:
      speed = (step - state['step']) / (now - start)
      print(f'step {step} loss {state["history"][-1][1]:.4f} lr '
            f'{rate(fraction):.2e} {speed:.1f} steps/s (this session)',
            flush=True)
    if now >= next_save:
      save_run(args.out, p, ema, opt, gen,
               dict(state, step=step, elapsed_s=state['elapsed_s'] + now -
                    start))
      next_save = now + args.save_minutes * 60
  state['elapsed_s'] += time.time() - start
  state['step'] = step
  save_run(args.out, p, ema, opt, gen, state)
  probe = data[:PROBE_NOTES, PROBE_START:PROBE_START + PROBE_LENGTH]
  probe_pitch = pitch[:PROBE_NOTES]

  def save_probe(path):
    with open(path, 'wb') as handle:
      np.savez(handle, classes=probe.cpu().numpy(),
               pitch=probe_pitch.cpu().numpy().astype(np.int16),
               logits=float32_logits(ema, cfg, probe, probe_pitch))

  atomic_save(os.path.join(args.out, PROBE_FILE), save_probe)
  print(f'done step {step} in {time.time() - start:.0f}s '
        f'({state["elapsed_s"]:.0f}s over all sessions)', flush=True)


if __name__ == '__main__':
  main()
