"""A barrier between the threads running one Numba-compiled loop.

The Numba loop splits each decoder step's rows over the cores, which meet
about 60 times a step (twice per layer). An OS wait costs tens of
microseconds, more than a whole step of a small model; spinning on one
shared counter costs about 60 ns between two cores of the development
machine. A thread that has spun `SPINS_BEFORE_YIELD` times without the
others arriving gives up its core at each further turn (`sched_yield`), so
a machine with more threads than cores slows down but does not stall.

Usage, inside functions compiled with `numba.njit`: every party calls
`wait(counter, parties, n)` with n = 1, 2, ... in turn, counter an int64
array of zeros shared by the parties (fresh for each run).
"""

import sys

from llvmlite import ir
import numba
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

SPINS_BEFORE_YIELD = 10000
_YIELD = 'SwitchToThread' if sys.platform == 'win32' else 'sched_yield'


def _element_pointer(context, builder, array_type, array):
  data = context.make_array(array_type)(context, builder, array).data
  return builder.gep(data, [ir.Constant(ir.IntType(64), 0)])


@intrinsic
def _arrive(typingctx, counter):  # pylint: disable=unused-argument
  """Adds 1 to counter[0] atomically (sequentially consistent: the writes
  before it are seen by a thread that sees the new count)."""

  def codegen(context, builder, signature, args):
    pointer = _element_pointer(context, builder, signature.args[0], args[0])
    builder.atomic_rmw('add', pointer, ir.Constant(ir.IntType(64), 1),
                       'seq_cst')
    return context.get_dummy_value()

  return types.none(counter), codegen


@intrinsic
def _count(typingctx, counter):  # pylint: disable=unused-argument
  """counter[0], read atomically with acquire order (the reads after it see
  what the arriving threads wrote)."""

  def codegen(context, builder, signature, args):
    pointer = _element_pointer(context, builder, signature.args[0], args[0])
    return builder.load_atomic(pointer, 'acquire', 8)

  return types.int64(counter), codegen


@intrinsic
def _give_up_core(typingctx):  # pylint: disable=unused-argument
  """Lets another thread run on this core (the OS's yield)."""

  def codegen(context, builder, signature, args):  # pylint: disable=unused-argument
    function = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.IntType(32), []), _YIELD)
    builder.call(function, [])
    return context.get_dummy_value()

  return types.none(), codegen


@numba.njit(cache=True, inline='always')
def wait(counter, parties, number):
  """Barrier `number` (1, 2, ... in each party's turn): returns once all
  `parties` threads have arrived at it. counter: int64 array, [0] shared."""
  _arrive(counter)
  target = number * parties
  spins = 0
  while _count(counter) < target:
    spins += 1
    if spins > SPINS_BEFORE_YIELD:
      _give_up_core()
