r"""The studio: a local web page to make instruments and play them.

Choose 2 or 4 sounds (the bundled notes or your own files), render a sample
pack (`magenta_wavenet.instrument`'s) with a progress bar, then play it: drag
a point on the pad between the sounds (the nearest timbres are crossfaded)
and play notes with the on-screen keyboard, the computer keyboard (a w s e d
f t g y h u j k: C to C, z and x: octave down and up) or a MIDI keyboard
(in browsers with Web MIDI). Each sound shows its waveform beside its code;
a pack downloads as a zip of WAVs and SFZ instruments.

On first start a default pack of two bundled notes (3 timbres, 3 pitches,
1 s notes) is rendered: under a minute with the shipped model on a busy
2-core CPU (55 s, model loading included); --default_pack=false skips
it. Uploads and packs are kept in --workdir.

The page is served on 127.0.0.1 only, unless --host says otherwise: the
studio has no login, so serve it on another address only on a network you
trust. It answers only to its own names (the loopback names, --host and
--allowed_hosts): a request naming another host gets 400, so a web page
cannot reach it through a name of its own that resolves here (DNS
rebinding), and uploads, renders and cancels from another site's page get
403. Uploads are limited in bytes (--max_upload_mb) and in decoded length
(--max_upload_seconds, read from the file's header before decoding); renders
wait at most 3 behind the running one, and each can be cancelled. Renders
are kept on disk in --workdir: after a crash or a kill, the next start
resumes them where they stopped.

Usage:
  python -m magenta_wavenet studio            # then open http://127.0.0.1:8765
  python -m magenta_wavenet studio --open --port=8000
  python -m magenta_wavenet studio --checkpoint_path=h512_bo16 \
      --workdir=/tmp/studio --default_pack=false
  # On a trusted network, reached as http://studio.local:8765:
  python -m magenta_wavenet studio --host=0.0.0.0 --allowed_hosts=studio.local
"""

import logging
import os
import threading
import webbrowser

from absl import flags

from magenta_wavenet.cli import common
from magenta_wavenet.model import pretrained

logger = logging.getLogger('magenta_wavenet')

WILDCARDS = ('0.0.0.0', '::')  # every interface
# --log levels uvicorn names otherwise.
UVICORN_LEVELS = {'WARN': 'warning', 'FATAL': 'critical'}

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
flags.DEFINE_string('host', '127.0.0.1', 'Address to serve on.',
                    flag_values=FLAGS)
flags.DEFINE_integer('port', 8765, 'Port to serve on.', lower_bound=1,
                     upper_bound=65535, flag_values=FLAGS)
flags.DEFINE_string('workdir', '', 'Folder of uploads and packs; default '
                    f'studio/ in the cache folder (${pretrained.HOME_VARIABLE}'
                    f', default {pretrained.DEFAULT_HOME}).',
                    flag_values=FLAGS)
flags.DEFINE_list('allowed_hosts', [], 'Other host names the page is '
                  'reached by (a machine name, its address on the network), '
                  'beside the loopback names and --host.', flag_values=FLAGS)
flags.DEFINE_float('max_upload_mb', 20.0, 'Largest upload accepted, MB.',
                   lower_bound=0.01, flag_values=FLAGS)
flags.DEFINE_float('max_upload_seconds', 30.0, 'Longest upload accepted, '
                   'seconds of decoded audio.', lower_bound=0.1,
                   flag_values=FLAGS)
flags.DEFINE_boolean('default_pack', True, 'Render the default pack of the '
                     'bundled sounds unless it is there.', flag_values=FLAGS)
flags.DEFINE_boolean('open', False, 'Open the page in a web browser.',
                     flag_values=FLAGS)
common.define_harmonic_filter_flag(FLAGS, studio=True)
common.define_retry_flag(FLAGS, studio=True)
common.define_expected_value_flag(FLAGS, studio=True)


def _body(flag_values):
  # The web framework loads only here, so the other commands never need it.
  import uvicorn  # pylint: disable=import-outside-toplevel

  from magenta_wavenet.webapp import app  # pylint: disable=import-outside-toplevel
  from magenta_wavenet.webapp import service  # pylint: disable=import-outside-toplevel

  workdir = flag_values.workdir or os.path.join(pretrained.cache_dir(),
                                                'studio')
  common.make_folder(workdir)
  model = common.model_from_flag(flag_values.checkpoint_path)
  hosts = app.LOOPBACK_NAMES + tuple(flag_values.allowed_hosts)
  if flag_values.host not in WILDCARDS:
    hosts += (flag_values.host,)
  studio = app.create_app(
      workdir, lambda: model,
      flag_values.checkpoint_path or pretrained.DEFAULT_MODEL,
      max_upload_bytes=int(flag_values.max_upload_mb * 2**20),
      max_upload_seconds=flag_values.max_upload_seconds,
      default_pack=service.DEFAULT_PACK if flag_values.default_pack else None,
      hosts=hosts, harmonic_filter_db=flag_values.harmonic_filter_db,
      retry_off_pitch=flag_values.retry_off_pitch,
      expected_value=flag_values.expected_value)
  if flag_values.host not in app.LOOPBACK_NAMES:
    logger.warning('Serving on %s: anyone who reaches it can upload and '
                   'render.', flag_values.host)
  url = f'http://{flag_values.host}:{flag_values.port}/'
  print(f'studio at {url} (Ctrl-C stops it); files in {workdir}')
  if flag_values.open:
    threading.Timer(1.0, webbrowser.open, [url]).start()
  uvicorn.run(studio, host=flag_values.host, port=flag_values.port,
              log_level=UVICORN_LEVELS.get(flag_values.log.upper(),
                                           flag_values.log.lower()))
  return 0


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv, __doc__)


if __name__ == '__main__':
  raise SystemExit(main())
