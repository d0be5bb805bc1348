//! Lesson: one training step of the tutorial's model, from IDX bytes to an SGD update, with the
//! shape of every value printed.
//!
//! ```sh
//! cargo run --release --example train_step
//! ```
//!
//! The first thing to read: the body of the training loop, with the step itself in
//! `autograd_lite::plain_step` (one page, `crates/autograd-lite/src/plain_step.rs`), then the
//! optimizer and the scheduler. The data is looked for as `trainer` looks for it
//! (`data/fashion-mnist/` of this folder or any folder above it, ...).

use std::error::Error;

use autograd_lite::gemm::ndarray::ArrayView2;
use autograd_lite::{plain_step, Mlp, TrainStep};
use fashion::{Dataset, DropLast, Split};
use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};

const BATCH: usize = 256;

fn main() -> Result<(), Box<dyn Error>> {
    // 1. IDX bytes -> dataset. `Dataset::load` inflates the .gz files, checks the IDX headers
    //    and keeps the pixels as u8: 60,000 images of 28 x 28 bytes, one after another.
    let dir = fashion::find_data_dir(None)?;
    let train = Dataset::load(&dir, Split::Train)?;
    println!("data         {}", dir.display());
    println!(
        "images       u8  [{}, {}, {}]   labels u8 [{}]",
        train.len(),
        train.rows,
        train.cols,
        train.labels.len()
    );

    // 2. Batch: a seeded permutation of 0..60000 (seed 0, epoch 0), cut into runs of 256
    //    indices; `gather` copies those images and labels into two flat buffers.
    let order = fashion::shuffled_order(train.len(), 0, 0);
    let indices = fashion::batches(&order, BATCH, DropLast::Keep)
        .next()
        .ok_or("the training set is empty")?;
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    train.gather(indices, &mut images, &mut labels);
    let n = labels.len();
    let pixels = ArrayView2::from_shape((n, train.pixels_per_image()), &images[..])?;
    println!(
        "x            u8  {:?}  (read as pixel / 255)",
        pixels.shape()
    );
    println!("y            u8  [{n}]  first labels {:?}", &labels[..8]);

    // 3. The model: PyTorch's nn.Linear layout, weight [out, in], initialised U(-1/sqrt(in), ..).
    let mut mlp = Mlp::new(784, 100, 10, 0);
    for (name, shape) in Mlp::PARAM_NAMES.iter().zip(mlp.param_shapes()) {
        println!("{name:<12} f32 {shape:?}");
    }

    // 4. Forward and backward: `plain_step` (crates/autograd-lite/src/plain_step.rs, one page)
    //    runs the layer functions in order, each value's shape in a comment beside it:
    //    h = max(x W1^T + b1, 0) [N, 100], z = h W2^T + b2 [N, 10], loss = mean CE(z, y);
    //    dz = (softmax(z) - onehot(y)) / N, dW2 = dz^T h, db2 = column sums of dz,
    //    dh = dz W2, da = dh * [h > 0], dW1 = da^T x, db1 = column sums of da. No dx: x is data.
    let (before, grads) = plain_step(&mlp, &images, &labels);
    println!(
        "loss         {:.6} (ln 10 = 2.302585: a fresh net is guessing), {} of {n} right",
        before.loss, before.correct
    );
    for (name, shape) in Mlp::PARAM_NAMES.iter().zip(mlp.param_shapes()) {
        println!("d{name:<11} f32 {shape:?}   (the parameter's shape)");
    }

    // 5. The fast step (two halves of the batch on two cores, a tape, buffers reused from batch
    //    to batch) computes the same bits; the trainer uses it.
    let mut fast = TrainStep::new(&mlp, n);
    let out = fast.forward_backward(&mlp, &images, &labels);
    let same = out == before
        && fast
            .grads()
            .iter()
            .zip(&grads)
            .all(|(f, p)| *f == p.as_slice());
    println!("TrainStep::forward_backward gives the same bits: {same}");

    // 6. The update: SGD with Nesterov momentum, and the scheduler stepped AFTER it.
    //    First step: b = g; d = g + 0.9 b; p -= 0.1 d.
    let lens: Vec<usize> = mlp.params().iter().map(|p| p.len()).collect();
    let sgd_config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::default()
    };
    let mut sgd = Sgd::new(&sgd_config, &lens)?;
    let config: SchedulerConfig = toml::from_str("name = 'StepLR'\nstep_size = 4\ngamma = 0.96")?;
    let mut scheduler = Scheduler::new(&config, &mut sgd)?;
    let grads: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
    let report = sgd.step(&mut mlp.params_mut(), &grads)?.clone();
    println!("\nSGD step (lr {}):", report.tensors[0].lr);
    println!(
        "{:<10} {:>8} {:>10} {:>10} {:>10}",
        "tensor", "|grad|", "|update|", "|param|", "|buffer|"
    );
    for (name, t) in Mlp::PARAM_NAMES.iter().zip(&report.tensors) {
        println!(
            "{name:<10} {:>8.4} {:>10.6} {:>10.4} {:>10.4}",
            t.grad_norm, t.update_norm, t.param_norm, t.buffer_norm
        );
    }
    scheduler.step(&mut sgd)?; // one scheduler step = one epoch here: StepLR(4) keeps 0.1
    println!("lr for the next step: {:?}", scheduler.last_lr());

    // 7. The same batch again: the loss went down.
    let (after, _) = plain_step(&mlp, &images, &labels);
    println!("loss on the same batch after the step: {:.6}", after.loss);
    Ok(())
}
