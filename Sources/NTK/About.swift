// NTK: the empirical neural tangent kernel engine, kernel metrics and analytic kernels.
