"""`python -m magenta_wavenet.studio` runs magenta_wavenet.cli.studio."""

from magenta_wavenet.cli.studio import main

if __name__ == '__main__':
  raise SystemExit(main())
