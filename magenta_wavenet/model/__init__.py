"""The model: its config and presets, Keras layers, encoder (with
its Winograd inference), decoder, autoencoder, checkpoints and
named models."""
