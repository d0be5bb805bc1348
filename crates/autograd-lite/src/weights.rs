//! Loading and saving an [`Mlp`] as safetensors, with PyTorch's names, so a model moves to and
//! from `model.state_dict()` (`safetensors.torch.save_file` / `load_file`).
//!
//! Expected tensors (f32, little-endian, row-major): `fc1.weight [H, I]`, `fc1.bias [H]`,
//! `fc2.weight [C, H]`, `fc2.bias [C]`. `I`, `H` and `C` are read from the weights and must be
//! non-zero and consistent. A file is untrusted: the `safetensors` crate checks the header
//! (its length is bounded by the file, offsets by the data), and we check names, dtypes and shapes
//! before copying anything, so a truncated or hostile file gives an error, never a panic, and no
//! buffer is sized from a number the file could lie about.
//!
//! Tensors named `optimizer.*` are skipped: the trainer's `checkpoint.safetensors` keeps the SGD
//! momentum buffers there, beside the weights, so a checkpoint loads as a model too.

use std::fmt;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};

use crate::linear::Linear;
use crate::mlp::Mlp;

/// Why a weights file could not be read.
#[derive(Debug)]
pub enum WeightsError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file (bad header, offsets, truncation...).
    Format(SafeTensorError),
    /// A required tensor is absent.
    MissingTensor {
        /// Its PyTorch name.
        name: &'static str,
    },
    /// The file holds a tensor the model does not have (PyTorch's `strict=True` rejects it too).
    UnexpectedTensor {
        /// The name found in the file.
        name: String,
    },
    /// A tensor is not float32.
    WrongDtype {
        /// Its PyTorch name.
        name: &'static str,
        /// The dtype found, as safetensors spells it (`F64`, `BF16`...).
        found: String,
    },
    /// A tensor's shape does not fit the model.
    WrongShape {
        /// Its PyTorch name.
        name: &'static str,
        /// The shape found in the file.
        found: Vec<usize>,
        /// What it should be, e.g. `[100, 784]` or `2-D with no zero dimension`.
        expected: String,
    },
    /// An error from reading the file `path`.
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<WeightsError>,
    },
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightsError::Io { path, source } => {
                write!(f, "cannot read weights file {}: {source}", path.display())
            }
            WeightsError::Format(e) => write!(
                f,
                "not a valid safetensors file ({e}); it may be truncated or not a weights file: \
                 save it again with safetensors.torch.save_file(model.state_dict(), path)"
            ),
            WeightsError::MissingTensor { name } => write!(
                f,
                "tensor `{name}` is missing; expected fc1.weight, fc1.bias, fc2.weight, fc2.bias \
                 (a state_dict of a model with layers named fc1 and fc2)"
            ),
            WeightsError::UnexpectedTensor { name } => write!(
                f,
                "unexpected tensor `{name}`; the model has only fc1.weight, fc1.bias, fc2.weight, \
                 fc2.bias: save only the state_dict of the two-layer MLP"
            ),
            WeightsError::WrongDtype { name, found } => write!(
                f,
                "tensor `{name}` has dtype {found}, expected F32; convert with `.float()` before saving"
            ),
            WeightsError::WrongShape { name, found, expected } => write!(
                f,
                "tensor `{name}` has shape {found:?}, expected {expected}; the weights belong to a \
                 different architecture"
            ),
            WeightsError::InFile { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

/// No `source()`: every variant's message already includes its cause, and a report that
/// walks the chain (anyhow's `{:#}`) would otherwise print it two or three times.
impl std::error::Error for WeightsError {}

/// Looks up `name` and checks that it is F32 with a shape accepted by `shape_ok`.
fn tensor<'d>(
    file: &SafeTensors<'d>,
    name: &'static str,
    expected: &dyn Fn() -> String,
    shape_ok: &dyn Fn(&[usize]) -> bool,
) -> Result<TensorView<'d>, WeightsError> {
    let t = file
        .tensor(name)
        .map_err(|_| WeightsError::MissingTensor { name })?;
    if t.dtype() != Dtype::F32 {
        return Err(WeightsError::WrongDtype {
            name,
            found: format!("{:?}", t.dtype()),
        });
    }
    if !shape_ok(t.shape()) {
        return Err(WeightsError::WrongShape {
            name,
            found: t.shape().to_vec(),
            expected: expected(),
        });
    }
    Ok(t)
}

/// The f32 values of a checked F32 tensor (its data length was validated against its shape).
fn floats(t: &TensorView<'_>) -> Vec<f32> {
    t.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// `ndarray` needs the product of a checked shape to match the data: both come from `t`.
fn matrix(t: &TensorView<'_>, rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_vec((rows, cols), floats(t))
        .expect("safetensors validated data size = shape")
}

impl Mlp {
    /// Reads an MLP from the bytes of a safetensors file with PyTorch's names (see the module
    /// docs); errors name the tensor and what was expected. Tensors named `optimizer.*` (a
    /// checkpoint's optimizer state) are skipped.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Mlp, WeightsError> {
        let file = SafeTensors::deserialize(bytes).map_err(WeightsError::Format)?;
        // The first such name in sorted order: the message does not depend on hash order.
        if let Some(name) = file
            .names()
            .into_iter()
            .filter(|n| !Mlp::PARAM_NAMES.contains(n) && !n.starts_with("optimizer."))
            .min()
        {
            return Err(WeightsError::UnexpectedTensor {
                name: name.to_string(),
            });
        }
        let w1 = tensor(
            &file,
            "fc1.weight",
            &|| "[hidden, inputs], both non-zero".into(),
            &|s| s.len() == 2 && s[0] > 0 && s[1] > 0,
        )?;
        let (hidden, inputs) = (w1.shape()[0], w1.shape()[1]);
        let b1 = tensor(&file, "fc1.bias", &|| format!("[{hidden}]"), &|s| {
            s == [hidden]
        })?;
        let w2 = tensor(
            &file,
            "fc2.weight",
            &|| format!("[classes, {hidden}]"),
            &|s| s.len() == 2 && s[0] > 0 && s[1] == hidden,
        )?;
        let classes = w2.shape()[0];
        let b2 = tensor(&file, "fc2.bias", &|| format!("[{classes}]"), &|s| {
            s == [classes]
        })?;
        Ok(Mlp {
            fc1: Linear {
                weight: matrix(&w1, hidden, inputs),
                bias: Array1::from(floats(&b1)),
            },
            fc2: Linear {
                weight: matrix(&w2, classes, hidden),
                bias: Array1::from(floats(&b2)),
            },
        })
    }

    /// Reads an MLP from a safetensors file (see [`Mlp::from_safetensors`]); errors name the file.
    pub fn load(path: &Path) -> Result<Mlp, WeightsError> {
        let bytes = std::fs::read(path).map_err(|source| WeightsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Mlp::from_safetensors(&bytes).map_err(|e| WeightsError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// The bytes of a safetensors file holding the four parameters with PyTorch's names, shapes
    /// and f32 little-endian data (loadable with `safetensors.torch.load_file`). The caller writes
    /// them to disk (atomically: a temporary file, then rename).
    pub fn to_safetensors(&self) -> Vec<u8> {
        let bytes: Vec<Vec<u8>> = self
            .params()
            .iter()
            .map(|p| p.iter().flat_map(|v| v.to_le_bytes()).collect())
            .collect();
        let shapes = self.param_shapes();
        let views = Mlp::PARAM_NAMES
            .iter()
            .zip(shapes)
            .zip(&bytes)
            .map(|((name, shape), data)| {
                let view = TensorView::new(Dtype::F32, shape, data)
                    .expect("each parameter's byte length is 4 * the product of its shape");
                (*name, view)
            });
        safetensors::tensor::serialize(views, None)
            .expect("serialising four consistent f32 tensors cannot fail")
    }
}
