//! After `reserve_buffers`, GEMMs of the MLP's shapes allocate nothing, on 1 or 2 threads.

use autograd_lite::gemm::{gemm, gemm_u8, reserve_buffers, Epilogue};
use ndarray::Array2;

mod counting_alloc;

use counting_alloc::allocations;

#[test]
fn mlp_shapes_allocate_nothing_after_reserving_buffers() {
    let x = Array2::from_shape_fn((256, 784), |(i, j)| ((i * 31 + j * 7) % 256) as u8);
    let w1 = Array2::from_shape_fn((100, 784), |(i, j)| ((i + 2 * j) % 9) as f32 * 0.01);
    let w2 = Array2::from_shape_fn((10, 100), |(i, j)| ((i + j) % 5) as f32 * 0.1);
    let b1 = vec![0.1f32; 100];
    let b2 = vec![0.0f32; 10];
    let mut h = Array2::<f32>::zeros((256, 100));
    let mut z = Array2::<f32>::zeros((256, 10));
    let mut dw1 = Array2::<f32>::zeros((100, 784));
    let mut dw2 = Array2::<f32>::zeros((10, 100));
    let mut dh = Array2::<f32>::zeros((256, 100));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a rayon pool");
        let mut step = || {
            let px = 1.0 / 255.0;
            gemm_u8(
                px,
                x.view(),
                w1.t(),
                0.0,
                h.view_mut(),
                Epilogue::AddBiasRelu(&b1),
            );
            gemm_epilogue_wrapper(h.view(), w2.t(), z.view_mut(), &b2);
            gemm(1.0, z.t(), h.view(), 0.0, dw2.view_mut());
            gemm(1.0, z.view(), w2.view(), 0.0, dh.view_mut());
            gemm_u8(
                px,
                x.t(),
                dh.view(),
                0.0,
                dw1.view_mut().reversed_axes(),
                Epilogue::None,
            );
        };
        pool.install(|| {
            reserve_buffers();
            step();
        });
        let before = allocations();
        pool.install(|| {
            for _ in 0..5 {
                step();
            }
        });
        let after = allocations();
        assert_eq!(after - before, 0, "{threads} thread(s): GEMMs allocated");
        assert!(h.iter().any(|&v| v > 0.0) && dw1.iter().any(|&v| v != 0.0));
    }
}

fn gemm_epilogue_wrapper(
    a: ndarray::ArrayView2<'_, f32>,
    b: ndarray::ArrayView2<'_, f32>,
    c: ndarray::ArrayViewMut2<'_, f32>,
    bias: &[f32],
) {
    autograd_lite::gemm::gemm_epilogue(1.0, a, b, 0.0, c, Epilogue::AddBias(bias));
}
