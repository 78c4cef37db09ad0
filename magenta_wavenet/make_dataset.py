"""`python -m magenta_wavenet.make_dataset` runs
magenta_wavenet.cli.make_dataset."""

from magenta_wavenet.cli.make_dataset import main

if __name__ == '__main__':
  raise SystemExit(main())
