//! `--optimizer sgd|adam|adamw`, `--betas B1,B2`, `--eps` and `--amsgrad`: the flags that choose
//! the optimizer and set Adam's own keyword arguments, shared by `trainer train` and
//! `trainer lr-find`. They write keys of the `[optimizer]` table; PyTorch's checks run when the
//! optimizer is built.

use anyhow::bail;
use clap::Args;
use toml::{Table, Value};

/// The optimizer flags.
#[derive(Args, Debug, Default, Clone)]
pub struct OptimizerFlags {
    /// The optimizer: sgd, adam or adamw (torch.optim's SGD, Adam, AdamW) [default: the
    /// config's, else sgd]. Another optimizer than the config's starts from PyTorch's defaults
    /// for it (Adam and AdamW: lr 1e-3; AdamW: weight_decay 1e-2).
    #[arg(long, value_name = "NAME", value_parser = ["sgd", "adam", "adamw"])]
    pub optimizer: Option<String>,
    /// Adam's and AdamW's betas: the decay rates of the moment averages [default: 0.9,0.999].
    #[arg(long, value_name = "B1,B2", allow_negative_numbers = true)]
    pub betas: Option<String>,
    /// Adam's and AdamW's eps, added to the denominator [default: 1e-8].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub eps: Option<f64>,
    /// Adam's and AdamW's AMSGrad variant (the maximum of past second moments).
    #[arg(long)]
    pub amsgrad: bool,
}

/// PyTorch's class name for a `--optimizer` value.
fn class_name(flag: &str) -> &'static str {
    match flag {
        "adam" => "Adam",
        "adamw" => "AdamW",
        _ => "SGD",
    }
}

impl OptimizerFlags {
    /// Whether any of these flags was given.
    pub fn given(&self) -> bool {
        self.optimizer.is_some() || self.betas.is_some() || self.eps.is_some() || self.amsgrad
    }

    /// Chooses the optimizer (a new `[optimizer]` table when it is not the config's) and sets
    /// Adam's keys. `sgd_flags` names the SGD-only flags given with it (`--momentum`, ...),
    /// which are refused with Adam, as these flags are with SGD; `set_sgd_flags` writes them
    /// into the table after the optimizer is chosen.
    pub fn apply(
        &self,
        table: &mut Table,
        sgd_flags: &[&str],
        set_sgd_flags: impl FnOnce(&mut Table),
    ) -> anyhow::Result<()> {
        if let Some(flag) = &self.optimizer {
            let name = class_name(flag);
            let current = table.get("name").and_then(Value::as_str).unwrap_or("SGD");
            if current != name {
                *table = Table::new();
                table.insert("name".into(), Value::String(name.into()));
            }
        }
        set_sgd_flags(table);
        let name = table
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("SGD")
            .to_string();
        let adam_flags: Vec<&str> = [
            ("--betas", self.betas.is_some()),
            ("--eps", self.eps.is_some()),
            ("--amsgrad", self.amsgrad),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect();
        if name == "SGD" {
            if let Some(flag) = adam_flags.first() {
                bail!("{flag} is a setting of Adam and AdamW, but the optimizer is SGD; add --optimizer adam or --optimizer adamw");
            }
        } else if let Some(flag) = sgd_flags.first() {
            bail!("{flag} is a setting of SGD, but the optimizer is {name}; Adam's momentum is betas[0] (--betas B1,B2), or add --optimizer sgd");
        }
        if let Some(text) = &self.betas {
            let betas = parse_betas(text)?;
            table.insert(
                "betas".into(),
                Value::Array(betas.iter().map(|b| Value::Float(*b)).collect()),
            );
        }
        if let Some(eps) = self.eps {
            table.insert("eps".into(), Value::Float(eps));
        }
        if self.amsgrad {
            table.insert("amsgrad".into(), Value::Boolean(true));
        }
        Ok(())
    }
}

/// `B1,B2`: two numbers (their range is checked with the other settings, as PyTorch does).
fn parse_betas(text: &str) -> anyhow::Result<[f64; 2]> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let numbers: Vec<f64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    match (parts.len(), numbers.as_slice()) {
        (2, [b1, b2]) => Ok([*b1, *b2]),
        _ => {
            bail!("--betas {text:?} is not two numbers: write B1,B2, for example --betas 0.9,0.999")
        }
    }
}
