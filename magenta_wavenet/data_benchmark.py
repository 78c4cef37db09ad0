"""`python -m magenta_wavenet.data_benchmark` runs
magenta_wavenet.cli.data_benchmark."""

from magenta_wavenet.cli.data_benchmark import main

if __name__ == '__main__':
  raise SystemExit(main())
