"""The studio: a local web page to make sample packs and play them.

`app.create_app` builds the FastAPI app that `python -m
magenta_wavenet.studio` serves; `service.Studio` holds its state (sources,
packs, the render queue, the model), `sources` and `packs` its files under
a work folder, `renders` the single-worker queue, `ids` the checks every
name or id from a request goes through.
"""
