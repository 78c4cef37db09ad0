"""Audio from codes: `synthesize` and `Synthesizer`, the step
arithmetic, the three sample loops (XLA, Numba, LiteRT), each sample's
expected value (`expectation`) and the batch choice."""
