"""`python -m magenta_wavenet.evaluate` runs
magenta_wavenet.cli.evaluate."""

from magenta_wavenet.cli.evaluate import main

if __name__ == '__main__':
  raise SystemExit(main())
