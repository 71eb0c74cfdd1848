// # Datasets
//
// Reading the standard public distributions of the image data sets Tangent trains on, and turning them
// into batches:
//
// - ``MNISTLoader`` reads MNIST and Fashion-MNIST IDX files (gzip-compressed or plain) with ``IDXFile``,
//   and carries a small embedded MNIST sample (``MNISTLoader/embeddedSample(limits:)``) so that training
//   works with no data on disk.
// - ``CIFAR10Loader`` reads the CIFAR-10 binary batches from a folder or straight from the official
//   `.tar.gz` (gzip through zlib, tar through ``TarArchiveReader``).
// - ``ImageDataset`` holds the pixels as NCHW `Float`s in [0, 1] and offers subsets, the binary
//   two-class filter, and fast batch gathering.
// - ``BatchOrder`` produces seeded, checkpointable epoch orderings.
// - ``DatasetDownloader`` fetches the official files (streamed with libcurl, capped at their published
//   sizes) and checks their published ``MD5`` sums.
//
// Every problem with a file on disk surfaces as a ``DatasetError`` whose description names the file. Sizes
// a file declares are checked against ``DatasetLimits`` and against what the file can hold before
// anything of that size is allocated or decompressed.
