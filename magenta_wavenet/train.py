"""`python -m magenta_wavenet.train` runs
magenta_wavenet.cli.train."""

from magenta_wavenet.cli.train import main

if __name__ == '__main__':
  raise SystemExit(main())
