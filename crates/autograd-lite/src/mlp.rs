//! The two-layer perceptron `logits = fc2(relu(fc1(x)))`, PyTorch's names and layouts.

use ndarray::{ArrayView2, Axis};

use crate::init::{linear_init, SplitMix64};
use crate::linear::Linear;

/// `inputs -> hidden -> classes`: `fc1` (then ReLU) and `fc2`, as the PyTorch module
/// `nn.Sequential`-free tutorial model with attributes `fc1`, `fc2`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    /// The hidden layer, weight `[hidden, inputs]`.
    pub fc1: Linear,
    /// The output layer, weight `[classes, hidden]`.
    pub fc2: Linear,
}

impl Mlp {
    /// The parameter names in PyTorch's `state_dict` order; every `[_; 4]` of this crate
    /// (`params`, `params_mut`, gradients) follows it.
    pub const PARAM_NAMES: [&'static str; 4] = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

    /// A freshly initialised network: `fc1` then `fc2`, each as PyTorch's `nn.Linear` (weights
    /// and biases uniform in `[-1/sqrt(fan_in), 1/sqrt(fan_in)]`), drawn in the order
    /// fc1.weight, fc1.bias, fc2.weight, fc2.bias from one [`SplitMix64`] stream seeded by `seed`.
    ///
    /// ```
    /// use autograd_lite::Mlp;
    ///
    /// let mlp = Mlp::new(784, 100, 10, 0);
    /// assert_eq!(mlp.param_shapes(), [vec![100, 784], vec![100], vec![10, 100], vec![10]]);
    /// let bound = 1.0 / 784f32.sqrt(); // fc1's fan-in is 784
    /// assert!(mlp.fc1.weight.iter().all(|w| w.abs() <= bound));
    /// assert_eq!(mlp.params(), Mlp::new(784, 100, 10, 0).params()); // a seed fixes every bit
    ///
    /// // Saved and loaded with PyTorch's names (safetensors), bit for bit.
    /// let loaded = Mlp::from_safetensors(&mlp.to_safetensors())?;
    /// assert_eq!(loaded.params(), mlp.params());
    /// # Ok::<(), autograd_lite::WeightsError>(())
    /// ```
    pub fn new(inputs: usize, hidden: usize, classes: usize, seed: u64) -> Mlp {
        let mut rng = SplitMix64::new(seed);
        let fc1 = linear_init(inputs, hidden, &mut rng);
        let fc2 = linear_init(hidden, classes, &mut rng);
        Mlp { fc1, fc2 }
    }

    /// Input features (784 for Fashion-MNIST).
    pub fn inputs(&self) -> usize {
        self.fc1.inputs()
    }

    /// Hidden units.
    pub fn hidden(&self) -> usize {
        self.fc1.outputs()
    }

    /// Output classes.
    pub fn classes(&self) -> usize {
        self.fc2.outputs()
    }

    /// The shapes of the parameters, in [`Mlp::PARAM_NAMES`] order (biases are 1-D).
    pub fn param_shapes(&self) -> [Vec<usize>; 4] {
        [
            vec![self.hidden(), self.inputs()],
            vec![self.hidden()],
            vec![self.classes(), self.hidden()],
            vec![self.classes()],
        ]
    }

    /// The parameters as row-major slices, in [`Mlp::PARAM_NAMES`] order.
    /// Panics if a public field was replaced by a non-row-major array.
    pub fn params(&self) -> [&[f32]; 4] {
        const MSG: &str = "Mlp parameters must be row-major (standard layout)";
        [
            self.fc1.weight.as_slice().expect(MSG),
            self.fc1.bias.as_slice().expect(MSG),
            self.fc2.weight.as_slice().expect(MSG),
            self.fc2.bias.as_slice().expect(MSG),
        ]
    }

    /// The parameters as mutable row-major slices, in [`Mlp::PARAM_NAMES`] order (for an
    /// optimizer). Panics if a public field was replaced by a non-row-major array.
    pub fn params_mut(&mut self) -> [&mut [f32]; 4] {
        const MSG: &str = "Mlp parameters must be row-major (standard layout)";
        [
            self.fc1.weight.as_slice_mut().expect(MSG),
            self.fc1.bias.as_slice_mut().expect(MSG),
            self.fc2.weight.as_slice_mut().expect(MSG),
            self.fc2.bias.as_slice_mut().expect(MSG),
        ]
    }

    /// The parameters as 2-D views for a [`Tape`](crate::tape::Tape) session, in
    /// [`Mlp::PARAM_NAMES`] order; a bias `[F]` is viewed as the row `[1, F]`.
    pub fn param_views(&self) -> [ArrayView2<'_, f32>; 4] {
        [
            self.fc1.weight.view(),
            self.fc1.bias.view().insert_axis(Axis(0)),
            self.fc2.weight.view(),
            self.fc2.bias.view().insert_axis(Axis(0)),
        ]
    }
}
