// Datasets: MNIST / Fashion-MNIST IDX files, CIFAR-10 binary batches, subsets, seeded batching, download.
