"""Scripts that reproduce and check the numbers the README reports."""

import os

# As in magenta_wavenet/__init__.py: TensorFlow's C++ info lines (here the
# device placement of Magenta's graphs) would hide the report.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
