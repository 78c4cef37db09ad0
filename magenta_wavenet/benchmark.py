"""`python -m magenta_wavenet.benchmark` runs
magenta_wavenet.cli.benchmark."""

from magenta_wavenet.cli.benchmark import main

if __name__ == '__main__':
  raise SystemExit(main())
