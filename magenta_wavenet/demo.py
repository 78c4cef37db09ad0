"""`python -m magenta_wavenet.demo` runs
magenta_wavenet.cli.demo."""

from magenta_wavenet.cli.demo import main

if __name__ == '__main__':
  raise SystemExit(main())
