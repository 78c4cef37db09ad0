"""Batch jobs as Apache Beam pipelines: sample packs (`pack`) and codes of
many files (`embeddings`), over any number of workers and file systems.

Needs the `beam` extra (`pip install 'magenta_wavenet[beam]'`); the command
lines run these when given --pipeline_options.
"""
