"""`python -m magenta_wavenet.mix` runs
magenta_wavenet.cli.mix."""

from magenta_wavenet.cli.mix import main

if __name__ == '__main__':
  raise SystemExit(main())
