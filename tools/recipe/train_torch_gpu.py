"""GPU training of the h64_bo16 NSynth autoencoder in PyTorch, same maths and
weight names as magenta_wavenet (weights kept in the Keras layout
[k, in, out] under the published checkpoint names)."""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

HOP = 512
ENC_LAYERS = 20
DEC_LAYERS = 20
WIDTH = 64
STAGES = 10


def conv(x, w, b, dilation=1, causal=True):
  """x [B, C, T]; w [k, in, out] (Keras layout); b [out]."""
  k = w.shape[0]
  weight = w.permute(2, 1, 0)
  if k == 1:
    return F.conv1d(x, weight, b)
  span = (k - 1) * dilation
  pad = (span, 0) if causal else (span // 2, span // 2)
  return F.conv1d(F.pad(x, pad), weight, b, dilation=dilation)


def layer(p, name, x, dilation=1, causal=True):
  return conv(x, p[name + '/W'], p[name + '/biases'], dilation, causal)


def dilations(n):
  return [2 ** (i % STAGES) for i in range(n)]


def encode(p, inp):
  h = layer(p, 'ae_startconv', inp[:, None], causal=False)
  for i, d in enumerate(dilations(ENC_LAYERS), 1):
    z = F.relu(layer(p, f'ae_dilatedconv_{i}', F.relu(h), d, causal=False))
    h = h + layer(p, f'ae_res_{i}', z)
  code = layer(p, 'ae_bottleneck', h)
  b, c, t = code.shape
  return code.reshape(b, c, t // HOP, HOP).mean(-1)


def spread(x, t):
  return torch.repeat_interleave(x, HOP, dim=2)[:, :, :t]


def decode(p, inp, code):
  t = inp.shape[1]
  shifted = F.pad(inp, (1, 0))[:, :-1]
  l = layer(p, 'startconv', shifted[:, None])
  s = layer(p, 'skip_start', l)
  for i, d in enumerate(dilations(DEC_LAYERS), 1):
    z = layer(p, f'dilatedconv_{i}', l, d) + spread(
        layer(p, f'cond_map_{i}', code), t)
    g = torch.sigmoid(z[:, :WIDTH]) * torch.tanh(z[:, WIDTH:])
    l = l + layer(p, f'res_{i}', g)
    s = s + layer(p, f'skip_{i}', g)
  h = layer(p, 'out1', F.relu(s)) + spread(layer(p, 'cond_map_out1', code), t)
  return layer(p, 'logits', F.relu(h))


def logits_of(p, classes):
  inp = (classes.long() - 128).float() / 128.0
  return decode(p, inp, encode(p, inp))


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument('--data', required=True)
  parser.add_argument('--init', required=True)
  parser.add_argument('--state', default='')
  parser.add_argument('--out', required=True)
  parser.add_argument('--minutes', type=float, default=8.0)
  parser.add_argument('--batch', type=int, default=32)
  parser.add_argument('--crop', type=int, default=6144)
  parser.add_argument('--total_steps', type=int, default=30000)
  parser.add_argument('--lr', type=float, default=1e-3)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--expect', default='')
  args = parser.parse_args()
  dev = torch.device('cuda')
  torch.manual_seed(args.seed)
  torch.backends.cuda.matmul.allow_tf32 = True
  torch.backends.cudnn.allow_tf32 = True
  torch.backends.cudnn.benchmark = True
  data = torch.from_numpy(np.load(args.data)).to(dev)
  init = np.load(args.init)
  names = sorted(init.files)
  p = {n: torch.tensor(init[n], device=dev, requires_grad=True) for n in names}
  ema = {n: p[n].detach().clone() for n in names}
  if args.expect:
    expect = np.load(args.expect)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    with torch.no_grad():
      got = logits_of(p, torch.from_numpy(expect['classes']).to(dev))
    diff = np.abs(got.permute(0, 2, 1).cpu().numpy() - expect['logits']).max()
    print('max |torch - keras| logits at init:', diff, flush=True)
    if not diff < 1e-3:
      raise SystemExit('torch port differs from the Keras model')
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
  opt = torch.optim.Adam([p[n] for n in names], lr=args.lr, eps=1e-8)
  step = 0
  history = []
  if args.state:
    state = torch.load(args.state, map_location=dev)
    with torch.no_grad():
      for n in names:
        p[n].copy_(state['params'][n])
        ema[n].copy_(state['ema'][n])
    opt.load_state_dict(torch.load(args.state.replace('state.pt', 'opt.pt'),
                                   map_location=dev))
    step = state['step']
    history = state['history']
    print('resumed at step', step, flush=True)

  def rate(s):
    # The reference's steps, scaled: lr until 45% of the run, then down.
    f = s / args.total_steps
    for frac, mult in ((0.85, 0.1), (0.7, 0.2), (0.45, 0.5)):
      if f >= frac:
        return args.lr * mult
    return args.lr

  gen = torch.Generator(device=dev)
  gen.manual_seed(args.seed * 100003 + step)
  n, length = data.shape
  start = time.time()
  deadline = start + args.minutes * 60
  losses = []
  while time.time() < deadline and step < args.total_steps:
    rows = torch.randint(0, n, (args.batch,), device=dev, generator=gen)
    offs = torch.randint(0, length - args.crop + 1, (args.batch,),
                         device=dev, generator=gen)
    idx = offs[:, None] + torch.arange(args.crop, device=dev)[None]
    batch = data[rows[:, None], idx]
    for group in opt.param_groups:
      group['lr'] = rate(step)
    with torch.autocast('cuda', dtype=torch.bfloat16):
      logits = logits_of(p, batch)
    loss = F.cross_entropy(logits.float(), batch.long())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    step += 1
    decay = min(0.9999, (1 + step) / (10 + step))
    with torch.no_grad():
      for nm in names:
        ema[nm].mul_(decay).add_(p[nm].detach(), alpha=1 - decay)
    losses.append(loss.item() if step % 25 == 0 else None)
    if step % 25 == 0:
      history.append((step, losses[-1], time.time() - start))
    if step % 500 == 0:
      print(f'step {step} loss {losses[-1]:.4f} lr {rate(step):.2e} '
            f'{step / (time.time() - start):.1f} steps/s(avg this run)',
            flush=True)
  elapsed = time.time() - start
  os.makedirs(args.out, exist_ok=True)
  np.savez(os.path.join(args.out, 'ema.npz'),
           **{n: ema[n].detach().cpu().numpy() for n in names})
  torch.save({'params': {n: p[n].detach() for n in names}, 'ema': ema,
              'step': step, 'history': history},
             os.path.join(args.out, 'state.pt'))
  torch.save(opt.state_dict(), os.path.join(args.out, 'opt.pt'))
  # Equivalence probe: full float32 logits of two fixed crops.
  torch.backends.cuda.matmul.allow_tf32 = False
  torch.backends.cudnn.allow_tf32 = False
  with torch.no_grad():
    probe = data[:2, 20000:20000 + 2048]
    probe_logits = logits_of(ema, probe).permute(0, 2, 1).cpu().numpy()
  np.savez(os.path.join(args.out, 'probe.npz'), classes=probe.cpu().numpy(),
           logits=probe_logits)
  with open(os.path.join(args.out, 'history.json'), 'w') as f:
    json.dump({'step': step, 'elapsed_s': elapsed, 'history': history,
               'args': vars(args)}, f)
  print(f'done step {step} in {elapsed:.0f}s', flush=True)


if __name__ == '__main__':
  main()
