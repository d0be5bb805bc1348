//! `trainer eval`: test loss, accuracy and the confusion matrix of saved weights.

use crate::console;
use std::path::PathBuf;

use anyhow::bail;
use autograd_lite::evaluate;
use clap::Args;
use fashion::{Dataset, Split, CLASS_NAMES};

/// Flags of `trainer eval`.
#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  trainer train --out runs/steplr\n  trainer eval --weights runs/steplr/model.safetensors"
)]
pub struct EvalArgs {
    /// Weights to evaluate (safetensors with PyTorch's names: fc1.weight, fc1.bias, fc2.weight, fc2.bias).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Folder with the Fashion-MNIST files [default: searched].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Runs `trainer eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let (available, _) = crate::limits::available_memory();
    let limit = crate::input_file::weights_max_bytes(crate::limits::widest_hidden(1, available));
    let mlp = crate::input_file::load_weights(&args.weights, "--weights", limit)?;
    if mlp.fc1.weight.ncols() != 784 || mlp.fc2.weight.nrows() != CLASS_NAMES.len() {
        bail!(
            "{} is a {}-{}-{} network; trainer eval takes 784 inputs and 10 classes",
            args.weights.display(),
            mlp.fc1.weight.ncols(),
            mlp.hidden(),
            mlp.fc2.weight.nrows()
        );
    }
    let dir = crate::data_dir::find(args.data_dir.as_deref())?;
    let test = Dataset::load(&dir, Split::Test)?;
    let mut predictions = Vec::new();
    let eval = evaluate(&mlp, &test.images, &test.labels, &mut predictions);
    console::println(format_args!(
        "weights: {} (784-{}-10)",
        args.weights.display(),
        mlp.hidden()
    ));
    console::println(format_args!(
        "data: {} ({} test images)",
        dir.display(),
        test.len()
    ));
    console::println(format_args!(
        "test loss {:.6}, accuracy {:.2}% ({} of {})",
        eval.loss,
        100.0 * eval.correct as f64 / eval.total.max(1) as f64,
        eval.correct,
        eval.total
    ));
    console::println(format_args!(""));
    console::print(format_args!(
        "{}",
        confusion_table(&confusion(&test.labels, &predictions))
    ));
    Ok(())
}

/// `counts[true][predicted]`.
pub fn confusion(labels: &[u8], predictions: &[u8]) -> [[u64; 10]; 10] {
    let mut counts = [[0u64; 10]; 10];
    for (&t, &p) in labels.iter().zip(predictions) {
        if let Some(cell) = counts
            .get_mut(t as usize)
            .and_then(|row| row.get_mut(p as usize))
        {
            *cell += 1;
        }
    }
    counts
}

/// The confusion matrix as text: rows are the true class, columns the predicted class.
pub fn confusion_table(counts: &[[u64; 10]; 10]) -> String {
    let mut s = String::from("confusion matrix (rows: true class, columns: predicted class)\n");
    s.push_str(&format!("{:>13}", ""));
    for i in 0..10 {
        s.push_str(&format!("{i:>6}"));
    }
    s.push_str("  recall\n");
    for (t, row) in counts.iter().enumerate() {
        let total: u64 = row.iter().sum();
        s.push_str(&format!("{t} {:>11}", CLASS_NAMES[t]));
        for c in row {
            s.push_str(&format!("{c:>6}"));
        }
        let recall = if total == 0 {
            0.0
        } else {
            100.0 * row[t] as f64 / total as f64
        };
        s.push_str(&format!("  {recall:5.1}%\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_counts_true_rows_and_predicted_columns() {
        let c = confusion(&[0, 0, 1, 9], &[0, 1, 1, 0]);
        assert_eq!(c[0][0], 1);
        assert_eq!(c[0][1], 1);
        assert_eq!(c[1][1], 1);
        assert_eq!(c[9][0], 1);
        assert_eq!(c.iter().flatten().sum::<u64>(), 4);
        let table = confusion_table(&c);
        assert!(table.contains("Ankle boot"), "{table}");
        assert!(table.lines().nth(2).unwrap().ends_with("50.0%"), "{table}");
    }
}
