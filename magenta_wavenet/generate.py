"""`python -m magenta_wavenet.generate` runs
magenta_wavenet.cli.generate."""

from magenta_wavenet.cli.generate import main

if __name__ == '__main__':
  raise SystemExit(main())
