"""Keras layers of the NSynth WaveNet autoencoder."""

from magenta_wavenet.layers.conv import DilatedConv1D
from magenta_wavenet.layers.decoder_block import DecoderBlock
from magenta_wavenet.layers.encoder_block import EncoderBlock

__all__ = ['DilatedConv1D', 'DecoderBlock', 'EncoderBlock']
