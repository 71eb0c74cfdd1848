// Kernels: numeric routines on raw Float buffers (GEMM, im2col/col2im, pooling, softmax, random
// numbers, symmetric eigensolvers). No autodiff here. Every routine has a slow, obvious reference twin in
// Reference.swift that the tests compare against.
