"""Audio from codes: `synthesize` and `Synthesizer`, the step
arithmetic, the three sample loops (XLA, Numba, LiteRT) and
the batch choice."""
