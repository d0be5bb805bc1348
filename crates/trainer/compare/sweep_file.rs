//! `DIR/sweep.toml`: the plan of a comparison, written by `compare` before any run starts and
//! read back by `trainer report`.
//!
//! It holds the command, its configs, grid and seeds, and the resolved runs in a fixed order
//! (index, folder name, setting, seed, full config): everything needed to rebuild the summary,
//! the charts and the report from the run folders, without the config files or the data.

use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use toml::Value;

use super::grid::{GridAxis, Plan, PlannedRun, Setting};
use crate::config::RunConfig;

/// The file's name in the comparison folder.
pub const FILE_NAME: &str = "sweep.toml";

/// The plan and the command that made it.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The command line, as shown in the report.
    pub command: String,
    /// The plan.
    pub plan: Plan,
}

/// The file's layout.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    command: String,
    /// The config files as given.
    configs: Vec<String>,
    /// `--seeds`, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seeds: Option<Vec<u64>>,
    /// `--epochs`, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epochs: Option<u64>,
    seeds_per_setting: usize,
    #[serde(default)]
    grid: Vec<AxisEntry>,
    settings: Vec<SettingEntry>,
    runs: Vec<RunEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AxisEntry {
    key: String,
    values: Vec<Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingEntry {
    name: String,
    config: String,
    #[serde(default)]
    values: Vec<Value>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunEntry {
    index: usize,
    name: String,
    setting: usize,
    seed: u64,
    config: RunConfig,
}

/// What the command line said, beside the plan.
pub struct Command<'a> {
    /// The command line.
    pub line: String,
    /// The config files as given.
    pub configs: Vec<String>,
    /// `--seeds`.
    pub seeds: Option<&'a [u64]>,
    /// `--epochs`.
    pub epochs: Option<u64>,
}

/// The text of `sweep.toml` for `plan`.
pub fn text(command: &Command, plan: &Plan) -> anyhow::Result<String> {
    let file = SweepFile {
        command: command.line.clone(),
        configs: command.configs.clone(),
        seeds: command.seeds.map(<[u64]>::to_vec),
        epochs: command.epochs,
        seeds_per_setting: plan.seeds_per_setting,
        grid: plan
            .axes
            .iter()
            .map(|a| AxisEntry {
                key: a.key.clone(),
                values: a.values.clone(),
            })
            .collect(),
        settings: plan
            .settings
            .iter()
            .map(|s| SettingEntry {
                name: s.name.clone(),
                config: s.config_name.clone(),
                values: s.values.clone(),
                notes: s.notes.clone(),
            })
            .collect(),
        runs: plan
            .runs
            .iter()
            .enumerate()
            .map(|(index, r)| RunEntry {
                index,
                name: r.dir_name.clone(),
                setting: r.setting,
                seed: r.seed,
                config: r.config.clone(),
            })
            .collect(),
    };
    let body = toml::to_string(&file).context("cannot write the comparison's plan as TOML")?;
    Ok(format!(
        "# The plan of a `trainer compare`: read by `trainer report` and `trainer compare --resume` (do not edit).\n{body}"
    ))
}

/// Reads `dir/sweep.toml`. A folder without one is not a comparison folder; a damaged file is
/// named with what is wrong.
pub fn read(dir: &Path) -> anyhow::Result<Sweep> {
    if !dir.is_dir() {
        bail!(
            "{} is not a folder; give the --out DIR of a `trainer compare`",
            dir.display()
        );
    }
    let path = dir.join(FILE_NAME);
    if !path.exists() {
        bail!(
            "{} is not a comparison folder: it has no {FILE_NAME} (which `trainer compare --out DIR` writes before its first run; comparisons made before `trainer report` existed have none); give the folder of a comparison",
            dir.display()
        );
    }
    let text = crate::input_file::read_text(
        &path,
        "the comparison's plan",
        crate::input_file::CSV_MAX_BYTES,
    )?;
    let file: SweepFile = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is damaged: {}", path.display(), e.message().trim()))?;
    let damaged = |what: String| anyhow::anyhow!("{} is damaged: {what}", path.display());
    if file.seeds_per_setting == 0 {
        return Err(damaged("seeds_per_setting is 0".into()));
    }
    for s in &file.settings {
        if s.values.len() != file.grid.len() {
            return Err(damaged(format!(
                "setting {} has {} grid values for {} grid keys",
                s.name,
                s.values.len(),
                file.grid.len()
            )));
        }
    }
    // Every setting runs with every seed: a plan cut short (or edited) has the wrong count.
    let expected = file.settings.len().saturating_mul(file.seeds_per_setting);
    if file.runs.len() != expected {
        return Err(damaged(format!(
            "it lists {} where its {} with {} each make {expected}",
            crate::plural::plural(file.runs.len() as u64, "run"),
            crate::plural::plural(file.settings.len() as u64, "setting"),
            crate::plural::plural(file.seeds_per_setting as u64, "seed"),
        )));
    }
    let mut runs: Vec<PlannedRun> = Vec::with_capacity(file.runs.len());
    for (i, r) in file.runs.into_iter().enumerate() {
        if r.index != i {
            return Err(damaged(format!("run {} has index {}", i, r.index)));
        }
        if r.setting >= file.settings.len() {
            return Err(damaged(format!(
                "run {} names setting {} of {}",
                r.name,
                r.setting,
                file.settings.len()
            )));
        }
        // The name is a folder inside DIR: nothing that leads elsewhere.
        if r.name.is_empty()
            || r.name.starts_with('.')
            || r.name.contains(['/', '\\'])
            || runs.iter().any(|o| o.dir_name == r.name)
        {
            return Err(damaged(format!(
                "run {i} has the folder name {:?} (empty, hidden, a path, or given twice)",
                r.name
            )));
        }
        runs.push(PlannedRun {
            setting: r.setting,
            seed: r.seed,
            dir_name: r.name,
            config: r.config,
        });
    }
    let plan = Plan {
        axes: file
            .grid
            .into_iter()
            .map(|a| GridAxis {
                key: a.key,
                values: a.values,
            })
            .collect(),
        settings: file
            .settings
            .into_iter()
            .map(|s| Setting {
                name: s.name,
                config_name: s.config,
                values: s.values,
                notes: s.notes,
            })
            .collect(),
        runs,
        seeds_per_setting: file.seeds_per_setting,
    };
    Ok(Sweep {
        command: file.command,
        plan,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare_cmd::grid::parse_value;

    /// A plan whose grid values are of every kind a `--grid` can give, with a horizon note.
    fn plan() -> Plan {
        let config = RunConfig::parse(
            "epochs = 2\nseed = 3\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n[scheduler]\nname = \"StepLR\"\nstep_size = 1\ngamma = 0.5\n",
        )
        .unwrap();
        let values = vec![
            parse_value("1e-3"),
            parse_value("[2, 4]"),
            parse_value("text"),
        ];
        Plan {
            axes: ["optimizer.lr", "scheduler.milestones", "data.dir"]
                .iter()
                .zip(&values)
                .map(|(k, v)| GridAxis {
                    key: k.to_string(),
                    values: vec![v.clone()],
                })
                .collect(),
            settings: vec![Setting {
                name: "s-lr=0.001".into(),
                config_name: "s".into(),
                values,
                notes: vec!["scheduler.T_max = 9 but the run has 470 steps".into()],
            }],
            runs: (0..2)
                .map(|seed| PlannedRun {
                    setting: 0,
                    seed,
                    dir_name: format!("s-lr=0.001-seed={seed}"),
                    config: RunConfig {
                        seed,
                        ..config.clone()
                    },
                })
                .collect(),
            seeds_per_setting: 2,
        }
    }

    #[test]
    fn the_plan_reads_back_as_written() {
        let plan = plan();
        let command = Command {
            line: "trainer compare s.toml --seeds 0,1".into(),
            configs: vec!["s.toml".into()],
            seeds: Some(&[0, 1]),
            epochs: None,
        };
        let dir = std::env::temp_dir().join(format!("sweep-file-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), text(&command, &plan).unwrap()).unwrap();
        let back = read(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.command, command.line);
        assert_eq!(back.plan.axes, plan.axes);
        assert_eq!(back.plan.seeds_per_setting, 2);
        let (a, b) = (&back.plan.settings[0], &plan.settings[0]);
        assert_eq!(
            (&a.name, &a.config_name, &a.values, &a.notes),
            (&b.name, &b.config_name, &b.values, &b.notes)
        );
        for (a, b) in back.plan.runs.iter().zip(&plan.runs) {
            assert_eq!(
                (a.setting, a.seed, &a.dir_name),
                (b.setting, b.seed, &b.dir_name)
            );
            assert_eq!(a.config.to_toml().unwrap(), b.config.to_toml().unwrap());
        }
    }
}
