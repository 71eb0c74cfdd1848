"""MNIST's gzipped IDX files as numpy arrays, for the kernel-machine benchmark scripts beside this file."""
import gzip
import os
import struct

import numpy as np


def idx(path):
    """The array in one gzipped IDX file (uint8)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def split(folder, name, count):
    """The first `count` images of split `name` ("train" or "t10k") scaled to [0, 1] (float64, N×28×28) and their labels."""
    images = idx(os.path.join(folder, f"{name}-images-idx3-ubyte.gz"))[:count] / 255.0
    labels = idx(os.path.join(folder, f"{name}-labels-idx1-ubyte.gz"))[:count]
    return images, labels
