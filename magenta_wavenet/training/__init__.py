"""Training: the loop, weight averaging, schedule, metrics, evaluation."""
