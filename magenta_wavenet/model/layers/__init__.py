"""Keras layers of the NSynth WaveNet autoencoder."""

from magenta_wavenet.model.layers.conv import DilatedConv1D
from magenta_wavenet.model.layers.decoder_block import DecoderBlock
from magenta_wavenet.model.layers.encoder_block import EncoderBlock

__all__ = ['DilatedConv1D', 'DecoderBlock', 'EncoderBlock']
