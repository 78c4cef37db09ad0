"""NSynth data: the TFRecord schema, a tf.data reader, writers and builders."""

from magenta_wavenet.data.builders import build_from_folder
from magenta_wavenet.data.builders import build_from_soundfont
from magenta_wavenet.data.reader import NoteFilter
from magenta_wavenet.data.reader import centre_offset
from magenta_wavenet.data.reader import list_files
from magenta_wavenet.data.reader import nsynth_dataset
from magenta_wavenet.data.reader import read_error
from magenta_wavenet.data.reader import scan_files
from magenta_wavenet.data.schema import NoteLabels
from magenta_wavenet.data.schema import make_example
from magenta_wavenet.data.schema import parse_note_name
from magenta_wavenet.data.writer import write_examples
