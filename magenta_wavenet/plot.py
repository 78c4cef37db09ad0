"""`python -m magenta_wavenet.plot` runs
magenta_wavenet.cli.plot."""

from magenta_wavenet.cli.plot import main

if __name__ == '__main__':
  raise SystemExit(main())
