"""The cores this process may use: what every parallel loop divides its
work by (the encoder's Winograd chunks, the sample loops' threads)."""

import os


def cores():
  """CPU cores this process may run on (its affinity where the system has
  one, so a container limited to 2 of 64 cores gets 2)."""
  if hasattr(os, 'sched_getaffinity'):
    return len(os.sched_getaffinity(0))
  return os.cpu_count() or 1
