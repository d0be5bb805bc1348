//! fashion: the IDX file format, the Fashion-MNIST and MNIST datasets, batching and downloads.
