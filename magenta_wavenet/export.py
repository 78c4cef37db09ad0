"""`python -m magenta_wavenet.export` runs
magenta_wavenet.cli.export."""

from magenta_wavenet.cli.export import main

if __name__ == '__main__':
  raise SystemExit(main())
