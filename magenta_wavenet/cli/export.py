"""Exports a model for serving without this package.

The command is `serving.export_saved_model` (or, with --format=tflite,
`litert.LiteRTDecoder.save`) from flags; its `--help` is the serving
module's docstring, then `USAGE`.
"""

import os

from absl import flags

from magenta_wavenet import serving
from magenta_wavenet.cli import common
from magenta_wavenet.errors import MagentaWavenetError
from magenta_wavenet.synthesis import litert
from magenta_wavenet.synthesis.generation import DEFAULT_CHUNK

USAGE = r"""Usage:
  python -m magenta_wavenet export --save_path=output/saved_model
  saved_model_cli show --dir output/saved_model --all

  # In Python, with TensorFlow only (audio float32 [batch, samples]):
  #   m = tf.saved_model.load('output/saved_model')
  #   code = m.encode(audio)['code']  # the default model: 17 channels,
  #                                   # the last each clip's pitch (pYIN)
  #   code = m.encode(audio, np.float32([48.0]))['code']  # at MIDI 48
  #   wav = m.generate(code=code, seed=1, temperature=1.0)['audio']

  # The model without pitch (16-channel codes, encode(audio) only):
  python -m magenta_wavenet export --checkpoint_path=h64_bo16 \
      --save_path=output/saved_model_h64

  # The decoder for small devices: a LiteRT model with int8 weights
  # (model.tflite, signatures `decode_step`, `project_code` and
  # `output_layers`, and config.json):
  python -m magenta_wavenet export --format=tflite --weights=int8 \
      --save_path=output/decoder_int8
  # In Python: d = magenta_wavenet.synthesis.litert.LiteRTDecoder.load(path);
  #   audio = magenta_wavenet.Synthesizer(d).generate(code, seed=1)
"""

FLAGS = common.new_flags()
common.define_checkpoint_flag(FLAGS)
flags.DEFINE_string('save_path', '', 'Folder of the SavedModel (replaced).',
                    flag_values=FLAGS)
flags.DEFINE_integer('chunk_size', DEFAULT_CHUNK, 'Samples per compiled loop '
                     'call of the generate signature.', lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_enum('format', 'saved_model', ['saved_model', 'tflite'],
                  'saved_model: encode and generate with TensorFlow; tflite: '
                  'the decoder as a LiteRT model with --weights.',
                  flag_values=FLAGS)
common.define_weights_flag(FLAGS)


def _body(flag_values):
  if not flag_values.save_path:
    raise MagentaWavenetError('--save_path is required.')
  common.make_folder(os.path.dirname(
      os.path.abspath(flag_values.save_path)))
  if flag_values.format == 'saved_model' and flag_values.weights != 'float32':
    raise MagentaWavenetError('--weights applies to --format=tflite; a '
                              'SavedModel keeps float32 weights.')
  model = common.model_from_flag(flag_values.checkpoint_path)
  if flag_values.format == 'tflite':
    decoder = litert.LiteRTDecoder.from_decoder(model.decoder,
                                                flag_values.weights)
    decoder.save(flag_values.save_path)
    print(f'wrote {flag_values.save_path} ({litert.MODEL_FILE}, '
          f'{len(decoder.flatbuffer) / 1e6:.1f} MB, {flag_values.weights} '
          f'weights, and {litert.CONFIG_FILE})')
    return 0
  serving.export_saved_model(model, flag_values.save_path,
                             flag_values.chunk_size)
  print(f'wrote {flag_values.save_path}; see its signatures with: '
        f'saved_model_cli show --dir {flag_values.save_path} --all')
  return 0


def main(argv=None):
  """Console entry point; returns the exit status."""
  return common.run(_body, FLAGS, argv,
                    serving.__doc__ + '\n' + USAGE)


if __name__ == '__main__':
  raise SystemExit(main())
