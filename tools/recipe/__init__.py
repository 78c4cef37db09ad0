"""Glue of the PyTorch recipe that trained checkpoints/h64_bo16."""
