"""Reads Tangent's files (a zstd frame around a safetensors payload) into numpy, for the benchmark scripts."""
import json
import struct
import subprocess

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U64": np.uint64, "U8": np.uint8}


def read_tangent_file(path):
    """Returns ({name: ndarray}, metadata) from a zstd-compressed safetensors file."""
    payload = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    (header_length,) = struct.unpack("<Q", payload[:8])
    header = json.loads(payload[8:8 + header_length])
    metadata = header.pop("__metadata__", {})
    data = payload[8 + header_length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = np.dtype(DTYPES[entry["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(entry["shape"]).astype(dtype.newbyteorder("="))
    return tensors, metadata
