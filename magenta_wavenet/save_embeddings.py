"""`python -m magenta_wavenet.save_embeddings` runs
magenta_wavenet.cli.save_embeddings."""

from magenta_wavenet.cli.save_embeddings import main

if __name__ == '__main__':
  raise SystemExit(main())
