"""The command lines: each module parses its flags, calls the library and
prints. `python -m magenta_wavenet <command>` runs `cli.<command>.main`, as
do `python -m magenta_wavenet.<command>` and the console scripts."""
