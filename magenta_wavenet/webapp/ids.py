"""Ids from requests, and the only way they become paths.

Every upload, pack and render gets a server-made id of 32 lower-case hex
digits; a request's id is matched against that pattern before anything
else, and `child` checks the path it names is inside its folder, so no
`../`, absolute path or link from a request reaches the file system.
"""

import os
import re
import stat
import uuid

from magenta_wavenet.errors import MagentaWavenetError

ID_PATTERN = re.compile(r'[0-9a-f]{32}')


class NotFound(MagentaWavenetError):
  """A request names an id, pack or file that does not exist (HTTP 404)."""


def new_id():
  """A fresh random id: 32 lower-case hex digits."""
  return uuid.uuid4().hex


def check_id(value, what):
  """`value` when it is an id; else NotFound naming `what` ('pack')."""
  if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
    raise NotFound(f'no such {what}.')
  return value


def is_regular_file(path):
  """Whether `path` is a regular file itself: not a link, folder, pipe or
  device, and not missing."""
  try:
    return stat.S_ISREG(os.lstat(path).st_mode)
  except OSError:
    return False


def is_real_folder(path):
  """Whether `path` is a folder itself, not a link to one."""
  try:
    return stat.S_ISDIR(os.lstat(path).st_mode)
  except OSError:
    return False


def child(folder, name):
  """The path of `name` inside `folder`, once checked to stay inside it.

  Args:
    folder: A folder of the studio's work folder.
    name: One file or folder name, already matched against a pattern.

  Returns:
    The real absolute path.

  Raises:
    NotFound: when the path leaves `folder` (`..`, an absolute name, a
      link out).
  """
  root = os.path.realpath(folder)
  path = os.path.realpath(os.path.join(root, name))
  if os.path.dirname(path) != root:
    raise NotFound('no such file.')
  return path
