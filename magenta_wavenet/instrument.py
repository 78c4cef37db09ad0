"""`python -m magenta_wavenet.instrument` runs
magenta_wavenet.cli.instrument."""

from magenta_wavenet.cli.instrument import main

if __name__ == '__main__':
  raise SystemExit(main())
