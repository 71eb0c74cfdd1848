// Checkpoints: a zstd frame around a safetensors-layout payload; atomic writes; strict, bounds-checked reads.
