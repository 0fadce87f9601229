"""Suite-wide settings."""
import os

import torch

# Tiny-model matmuls gain nothing from a second OpenMP thread, and on a shared 2-core machine spinning threads
# slow tests down many times over. Subprocess tests inherit this through the environment.
os.environ.setdefault('OMP_NUM_THREADS', '1')
torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
