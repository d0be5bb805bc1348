//! optim: SGD and every PyTorch learning-rate scheduler, with PyTorch's names and semantics.
