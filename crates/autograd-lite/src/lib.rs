//! autograd-lite: a hand-written GEMM, the layers of an MLP with their backward passes, and a
//! small reverse-mode tape.

pub mod gemm;
