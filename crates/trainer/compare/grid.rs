//! The runs of a comparison: every config × every combination of `--grid` values × every seed.
//!
//! A grid axis `KEY=V1,V2,...` names a dotted path into the run config's TOML form
//! (`scheduler.gamma`, `optimizer.momentum`, `data.batch_size`, `epochs`,
//! `scheduler.schedulers.1.T_max` for a child of SequentialLR). Each value is read as a TOML
//! value (integer, float, boolean, array, quoted string), and as a plain string otherwise. A
//! setting is the config with the key set and the whole config checked again, exactly as
//! `trainer train` checks a config file, so a bad key or value fails before any run starts.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use toml::{Table, Value};

use crate::config::RunConfig;
use crate::horizon;
use crate::training;

/// One `--grid KEY=V1,V2,...` flag.
#[derive(Debug, Clone, PartialEq)]
pub struct GridAxis {
    /// The dotted config path.
    pub key: String,
    /// The values to try, in the order given.
    pub values: Vec<Value>,
}

/// One config with one combination of grid values: a line of the summary, a colour on the
/// charts.
#[derive(Debug, Clone)]
pub struct Setting {
    /// `<config stem>-<key>=<value>...`, also the start of its run folders' names.
    pub name: String,
    /// The config file's stem.
    pub config_name: String,
    /// One value per grid axis, in the axes' order.
    pub values: Vec<Value>,
    /// Schedule horizons that do not fit its runs' length (see [`crate::horizon`]), one
    /// sentence each; the same for every seed.
    pub notes: Vec<String>,
}

/// One training run: a setting with a seed.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// Index into the settings.
    pub setting: usize,
    /// The seed of the initial weights and the batch order.
    pub seed: u64,
    /// The run folder's name: `<setting>-seed=<seed>`.
    pub dir_name: String,
    /// The fully resolved config.
    pub config: RunConfig,
}

/// Everything a comparison will run, checked.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The grid axes.
    pub axes: Vec<GridAxis>,
    /// The settings, in config order, then grid order (first axis slowest).
    pub settings: Vec<Setting>,
    /// The runs, setting by setting, seed by seed.
    pub runs: Vec<PlannedRun>,
    /// How many seeds each setting runs with.
    pub seeds_per_setting: usize,
}

/// Parses `KEY=V1,V2,...`. Commas inside `[...]` belong to an array value.
pub fn parse_axis(arg: &str) -> anyhow::Result<GridAxis> {
    let Some((key, values)) = arg.split_once('=') else {
        bail!("--grid {arg} has no `=`: write KEY=V1,V2,... (for example --grid scheduler.gamma=0.5,0.9)");
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|s| s.trim().is_empty()) {
        bail!("--grid {arg}: `{key}` is not a dotted config key such as scheduler.gamma or optimizer.momentum");
    }
    let values: Vec<Value> = split_top_level(values)
        .into_iter()
        .map(|v| v.trim())
        .map(|v| {
            if v.is_empty() {
                bail!("--grid {arg}: an empty value; separate values with single commas");
            }
            Ok(parse_value(v))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(GridAxis {
        key: key.to_string(),
        values,
    })
}

/// A grid value: a TOML value when it parses as one (`4`, `0.5`, `true`, `[2, 4]`, `"step"`),
/// else the text as a string (`epoch`).
pub fn parse_value(text: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// Splits on the commas that are not inside brackets.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// How a value reads in names and tables: strings without quotes, everything else as TOML.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sets the dotted `key` in `table`. Intermediate tables must exist (every table of a run
/// config does once it is written out); a number selects an array element.
pub fn set_key(table: &mut Table, key: &str, value: Value) -> Result<(), String> {
    let mut root = Value::Table(std::mem::take(table));
    let result = set_in(&mut root, key, value);
    if let Value::Table(t) = root {
        *table = t;
    }
    result
}

fn set_in(root: &mut Value, key: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    let Some((last, path)) = parts.split_last() else {
        return Err("an empty key".to_string());
    };
    let mut here = root;
    for (i, part) in path.iter().enumerate() {
        let walked = if i == 0 {
            "the config".to_string()
        } else {
            format!("`{}`", parts[..i].join("."))
        };
        here = step_into(here, part)
            .ok_or_else(|| format!("{walked} has no table or array element `{part}`"))?;
    }
    let walked = path.join(".");
    match here {
        Value::Table(t) => {
            t.insert(last.to_string(), value);
            Ok(())
        }
        Value::Array(a) => {
            let slot = last
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get_mut(i))
                .ok_or_else(|| format!("`{walked}` is an array with no element `{last}`"))?;
            *slot = value;
            Ok(())
        }
        _ => Err(format!("`{walked}` is a single value, not a table")),
    }
}

fn step_into<'a>(v: &'a mut Value, part: &str) -> Option<&'a mut Value> {
    match v {
        Value::Table(t) => t.get_mut(part),
        Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    }
}

/// Applies one combination of grid values to `config` and checks the result as `trainer train`
/// would (config keys, the trainer's rules, the schedule's horizons against the run's length on
/// `train_images` images, the optimizer's and scheduler's arguments). Returns the config with
/// `"auto"` horizons resolved, and the horizon warnings.
pub fn apply(
    config: &RunConfig,
    axes: &[GridAxis],
    values: &[Value],
    file: &Path,
    train_images: usize,
) -> anyhow::Result<(RunConfig, Vec<String>)> {
    let mut table = Table::try_from(config).context("cannot turn the run config into TOML")?;
    for (axis, value) in axes.iter().zip(values) {
        set_key(&mut table, &axis.key, value.clone()).map_err(|e| {
            anyhow::anyhow!(
                "--grid {key}={}: there is no config key {key} in {} ({e}); use a dotted key such as scheduler.gamma, optimizer.momentum, data.batch_size or epochs",
                value_text(value),
                file.display(),
                key = axis.key,
            )
        })?;
    }
    let describe = || {
        axes.iter()
            .zip(values)
            .map(|(a, v)| format!("--grid {}={}", a.key, value_text(v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let fail = |e: anyhow::Error| {
        if axes.is_empty() {
            anyhow::anyhow!("in {}: {e:#}", file.display())
        } else {
            anyhow::anyhow!(
                "{} does not work with {}: {e:#}",
                describe(),
                file.display()
            )
        }
    };
    let mut resolved: RunConfig = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| fail(anyhow::anyhow!("{}", e.message().trim())))?;
    resolved.validate().map_err(fail)?;
    let notes = horizon::settle(&mut resolved, train_images).map_err(fail)?;
    let probe = autograd_lite::Mlp::new(training::INPUTS, 1, training::CLASSES, 0);
    training::build_optimizer(&resolved, &probe).map_err(fail)?;
    Ok((resolved, notes))
}

/// Expands configs × grid × seeds into checked runs on a training set of `train_images`
/// images. `epochs` overrides every config's epochs; without `seeds` each setting runs once with
/// its config's own seed.
pub fn plan(
    configs: &[(PathBuf, RunConfig)],
    axes: Vec<GridAxis>,
    seeds: Option<&[u64]>,
    epochs: Option<u64>,
    train_images: usize,
) -> anyhow::Result<Plan> {
    for (i, axis) in axes.iter().enumerate() {
        if axes[..i].iter().any(|a| a.key == axis.key) {
            bail!(
                "--grid {} is given twice; give all its values in one --grid {}=V1,V2,...",
                axis.key,
                axis.key
            );
        }
        if axis.key == "epochs" && epochs.is_some() {
            bail!("--grid epochs=... and --epochs both set the epochs; give only one");
        }
        if axis.key == "seed" && seeds.is_some() {
            bail!("--grid seed=... and --seeds both set the seed; use --seeds");
        }
    }
    if let Some(seeds) = seeds {
        if seeds.is_empty() {
            bail!("--seeds needs at least one seed, for example --seeds 0,1,2");
        }
        if let Some(s) = seeds
            .iter()
            .enumerate()
            .find(|(i, s)| seeds[..*i].contains(s))
        {
            bail!("--seeds lists seed {} twice", s.1);
        }
    }
    // Counted before the combinations are built: a grid of 20 axes of 10 values would
    // otherwise fill memory with 10^20 settings before anything said no.
    let runs_asked = axes
        .iter()
        .fold(configs.len() as u128, |n, a| {
            n.saturating_mul(a.values.len() as u128)
        })
        .saturating_mul(seeds.map_or(1, <[u64]>::len) as u128);
    crate::limits::check_compare_runs(runs_asked)?;
    let labels = axis_labels(&axes);
    let combinations = combinations(&axes);
    let mut settings = Vec::new();
    let mut runs = Vec::new();
    for (file, config) in configs {
        let mut base = config.clone();
        if let Some(n) = epochs {
            base.epochs = n;
        }
        let config_name = unique_stem(file, configs);
        for values in &combinations {
            let (resolved, notes) = apply(&base, &axes, values, file, train_images)?;
            let mut name = config_name.clone();
            for (label, v) in labels.iter().zip(values) {
                name.push_str(&format!("-{label}={}", value_text(v)));
            }
            let name = sanitize(&name);
            let setting = settings.len();
            let own_seed = [resolved.seed];
            for &seed in seeds.unwrap_or(&own_seed) {
                let mut run = resolved.clone();
                run.seed = seed;
                runs.push(PlannedRun {
                    setting,
                    seed,
                    dir_name: format!("{name}-seed={seed}"),
                    config: run,
                });
            }
            settings.push(Setting {
                name,
                config_name: config_name.clone(),
                values: values.clone(),
                notes,
            });
        }
    }
    if let Some(dup) = settings
        .iter()
        .enumerate()
        .find(|(i, s)| settings[..*i].iter().any(|t| t.name == s.name))
    {
        bail!(
            "two settings would both be called {}: give each config file a different name and each grid value once",
            dup.1.name
        );
    }
    let seeds_per_setting = seeds.map_or(1, <[u64]>::len);
    Ok(Plan {
        axes,
        settings,
        runs,
        seeds_per_setting,
    })
}

/// Every combination of the axes' values, the first axis varying slowest (one empty
/// combination when there is no grid).
fn combinations(axes: &[GridAxis]) -> Vec<Vec<Value>> {
    let mut out = vec![Vec::new()];
    for axis in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    out
}

/// The short label of each axis in setting names: the key's last part (`gamma`), or the whole
/// key when two axes end alike.
fn axis_labels(axes: &[GridAxis]) -> Vec<String> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    axes.iter()
        .map(|a| {
            let clash = axes.iter().filter(|b| last(&b.key) == last(&a.key)).count() > 1;
            if clash {
                a.key.clone()
            } else {
                last(&a.key)
            }
        })
        .collect()
}

/// The config file's stem; `stem-2`, `stem-3`... when several files share it.
fn unique_stem(file: &Path, configs: &[(PathBuf, RunConfig)]) -> String {
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config".to_string())
    };
    let mine = stem(file);
    let same: Vec<&PathBuf> = configs
        .iter()
        .map(|(p, _)| p)
        .filter(|p| stem(p) == mine)
        .collect();
    match same.iter().position(|p| p.as_path() == file) {
        Some(i) if i > 0 => format!("{mine}-{}", i + 1),
        _ => mine,
    }
}

/// Keeps letters, digits and `._=+-`; anything else (spaces, slashes, quotes) becomes `_`, so a
/// name is a safe folder name and needs no escaping in CSV, SVG or HTML.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_toml_then_strings() {
        assert_eq!(parse_value("4"), Value::Integer(4));
        assert_eq!(parse_value("0.5"), Value::Float(0.5));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(parse_value("epoch"), Value::String("epoch".into()));
        assert_eq!(parse_value("\"step\""), Value::String("step".into()));
        let axis = parse_axis("scheduler.milestones=[2,4],[3]").unwrap();
        assert_eq!(axis.values.len(), 2);
        assert_eq!(
            axis.values[0],
            Value::Array(vec![Value::Integer(2), Value::Integer(4)])
        );
    }

    #[test]
    fn malformed_axes_are_errors() {
        assert!(parse_axis("scheduler.gamma").is_err());
        assert!(parse_axis("=0.5").is_err());
        assert!(parse_axis("scheduler..gamma=0.5").is_err());
        assert!(parse_axis("scheduler.gamma=0.5,,0.9").is_err());
    }

    #[test]
    fn keys_reach_nested_tables_and_arrays() {
        let mut t: Table =
            toml::from_str("epochs = 5\n[scheduler]\nname = \"SequentialLR\"\n[[scheduler.schedulers]]\nname = \"LinearLR\"\n[[scheduler.schedulers]]\nname = \"CosineAnnealingLR\"\nT_max = 4\n")
                .unwrap();
        set_key(&mut t, "epochs", Value::Integer(2)).unwrap();
        set_key(&mut t, "scheduler.schedulers.1.T_max", Value::Integer(9)).unwrap();
        assert_eq!(t["epochs"], Value::Integer(2));
        assert_eq!(t["scheduler"]["schedulers"][1]["T_max"], Value::Integer(9));
        assert!(set_key(&mut t, "model.hidden", Value::Integer(3)).is_err());
        assert!(set_key(&mut t, "epochs.x", Value::Integer(3)).is_err());
        assert!(set_key(&mut t, "scheduler.schedulers.7.T_max", Value::Integer(3)).is_err());
    }

    #[test]
    fn the_plan_is_configs_times_grid_times_seeds() {
        let configs = vec![
            (PathBuf::from("a/steplr.toml"), RunConfig::default()),
            (
                PathBuf::from("plateau.toml"),
                RunConfig::parse("[scheduler]\nname = \"ReduceLROnPlateau\"\nmode = \"max\"\n")
                    .unwrap(),
            ),
        ];
        let axes = vec![parse_axis("optimizer.momentum=0.8,0.9").unwrap()];
        let plan = plan(&configs, axes, Some(&[0, 1]), Some(1), 60_000).unwrap();
        let names: Vec<&str> = plan.runs.iter().map(|r| r.dir_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "steplr-momentum=0.8-seed=0",
                "steplr-momentum=0.8-seed=1",
                "steplr-momentum=0.9-seed=0",
                "steplr-momentum=0.9-seed=1",
                "plateau-momentum=0.8-seed=0",
                "plateau-momentum=0.8-seed=1",
                "plateau-momentum=0.9-seed=0",
                "plateau-momentum=0.9-seed=1",
            ]
        );
        assert!(plan.runs.iter().all(|r| r.config.epochs == 1));
        assert_eq!(plan.runs[2].config.optimizer["momentum"], Value::Float(0.9));
        assert_eq!(plan.runs[1].config.seed, 1);
        assert_eq!(plan.settings.len(), 4);
    }

    #[test]
    fn bad_keys_and_values_name_themselves() {
        let configs = vec![(PathBuf::from("steplr.toml"), RunConfig::default())];
        for (grid, wanted) in [
            ("scheduler.gama=0.5", "gama"),
            ("optimiser.lr=0.1", "optimiser"),
            ("data.batch_size=0", "data.batch_size"),
            ("scheduler.step_size=two", "step_size"),
        ] {
            let axes = vec![parse_axis(grid).unwrap()];
            let err = format!(
                "{:#}",
                plan(&configs, axes, None, None, 60_000).unwrap_err()
            );
            assert!(err.contains(wanted), "{grid}: {err}");
            assert!(err.contains("--grid"), "{grid}: {err}");
        }
    }
}
