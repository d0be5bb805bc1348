//! `trainer compare` end to end on the real data, kept short with `--epochs 1` and
//! `max_steps = 30`: the runs of configs x grid x seeds, same-seed runs sharing their start,
//! summary.csv against the runs' own metrics, well-formed charts with one series per setting,
//! a self-contained report, a diverging setting that does not stop the others, a bad grid
//! key that stops everything before any run, and Ctrl-C in the middle of a comparison.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn compare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("compare")
        .args(args)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "trainer compare failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A StepLR config and a per-step cosine config, both stopping after 30 steps; their own
/// `epochs = 3` is overridden by `--epochs 1`.
fn write_configs(dir: &Path) -> (String, String) {
    let common = "epochs = 3\nseed = 7\nmax_steps = 30\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\nnesterov = true\n";
    let step = dir.join("steplr.toml");
    std::fs::write(
        &step,
        format!("{common}[scheduler]\nname = \"StepLR\"\nstep_size = 1\ngamma = 0.5\ninterval = \"epoch\"\n"),
    )
    .unwrap();
    let cosine = dir.join("cosine.toml");
    std::fs::write(
        &cosine,
        format!(
            "{common}[scheduler]\nname = \"CosineAnnealingLR\"\nT_max = 30\ninterval = \"step\"\n"
        ),
    )
    .unwrap();
    (
        step.to_string_lossy().into_owned(),
        cosine.to_string_lossy().into_owned(),
    )
}

/// The charts' JSON embedded in `report.html` (`<script type="application/json" id="report-data">`).
fn report_data(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"report-data\">";
    let start = html.find(open).expect("report.html embeds its data") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

/// A CSV file as a header and rows of cells (the cells tested here hold no quotes or commas).
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

/// A column of a CSV as numbers.
fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.iter().map(|r| r[i].parse().unwrap()).collect()
}

/// Checks that `text` is well-formed XML with one root element named `root`: every tag closed
/// in order, attribute values quoted, `&` only in entities, no text outside the root.
fn assert_well_formed(text: &str, root: &str, what: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let between = &rest[..open];
        if stack.is_empty() {
            assert!(
                between.trim().is_empty(),
                "{what}: text outside the root: {between:?}"
            );
        }
        assert_entities(between, what);
        rest = &rest[open..];
        if let Some(body) = rest.strip_prefix("<!--") {
            let end = body
                .find("-->")
                .unwrap_or_else(|| panic!("{what}: unclosed comment"));
            rest = &body[end + 3..];
            continue;
        }
        if let Some(body) = rest.strip_prefix("<?") {
            let end = body
                .find("?>")
                .unwrap_or_else(|| panic!("{what}: unclosed <?"));
            rest = &body[end + 2..];
            continue;
        }
        let end = tag_end(rest).unwrap_or_else(|| panic!("{what}: unclosed tag at {:.60}", rest));
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack
                .pop()
                .unwrap_or_else(|| panic!("{what}: </{name}> closes nothing"));
            assert_eq!(top, name.trim(), "{what}: <{top}> closed by </{name}>");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name: String = tag.chars().take_while(|c| !c.is_whitespace()).collect();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_:".contains(c)),
            "{what}: bad tag name in <{tag}>"
        );
        assert_attributes(&tag[name.len()..], what);
        if stack.is_empty() {
            roots += 1;
            assert_eq!(name, root, "{what}: the root element");
        }
        if !self_closing {
            stack.push(name);
        }
    }
    assert!(rest.trim().is_empty(), "{what}: text after the root");
    assert!(stack.is_empty(), "{what}: unclosed elements {stack:?}");
    assert_eq!(roots, 1, "{what}: {roots} root elements");
}

/// The index of the `>` that ends the tag starting at `s[0] == '<'`, skipping quoted values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// `name="value"` pairs separated by white space.
fn assert_attributes(mut attrs: &str, what: &str) {
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return;
        }
        let eq = attrs
            .find('=')
            .unwrap_or_else(|| panic!("{what}: attribute without value: {attrs:.40}"));
        let name = attrs[..eq].trim();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_:".contains(c)),
            "{what}: bad attribute name {name:?}"
        );
        let value = attrs[eq + 1..].trim_start();
        let q = value.chars().next().unwrap_or(' ');
        assert!(q == '"' || q == '\'', "{what}: unquoted attribute {name}");
        let close = value[1..]
            .find(q)
            .unwrap_or_else(|| panic!("{what}: unclosed attribute {name}"));
        assert_entities(&value[1..1 + close], what);
        attrs = &value[close + 2..];
    }
}

fn assert_entities(text: &str, what: &str) {
    for (i, _) in text.match_indices('&') {
        let entity: String = text[i + 1..].chars().take_while(|c| *c != ';').collect();
        assert!(
            entity.len() < 10
                && !entity.is_empty()
                && entity
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '#'),
            "{what}: a bare & in {text:.60}"
        );
    }
}

/// The chart's legend: each entry's name and the stroke colour of the line sample drawn just
/// before it.
fn legend(svg: &str) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    let mut last_stroke = None;
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let end = tag_end(rest).unwrap();
        let tag = &rest[..=end];
        rest = &rest[end + 1..];
        if tag.starts_with("<polyline") {
            last_stroke = attribute(tag, "stroke")
                .filter(|_| attribute(tag, "stroke-width") == Some("5".into()));
        } else if tag.starts_with("<text") {
            let body_end = rest.find("</text>").unwrap();
            let text = rest[..body_end].trim().to_string();
            if let Some(stroke) = last_stroke.take() {
                entries.push((text, stroke));
            }
        }
    }
    entries
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_string())
}

/// The `<kind ...>` tags of an SVG.
fn elements<'a>(svg: &'a str, kind: &str) -> Vec<&'a str> {
    svg.match_indices(&format!("<{kind} "))
        .map(|(i, _)| &svg[i..i + tag_end(&svg[i..]).unwrap()])
        .collect()
}

/// How many points a polyline or polygon tag has.
fn points(tag: &str) -> usize {
    attribute(tag, "points").unwrap().split_whitespace().count()
}

/// The (x, y) pixel points of a polyline tag.
fn xy_points(tag: &str) -> Vec<(i64, i64)> {
    attribute(tag, "points")
        .unwrap()
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

#[test]
fn two_configs_by_a_grid_by_two_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let (step, cosine) = write_configs(dir.path());
    let out = dir.path().join("cmp");
    let stdout = ok(&compare(&[
        &step,
        &cosine,
        "--grid",
        "optimizer.momentum=0.8,0.9",
        "--seeds",
        "0,1",
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]));
    let settings = [
        "steplr-momentum=0.8",
        "steplr-momentum=0.9",
        "cosine-momentum=0.8",
        "cosine-momentum=0.9",
    ];

    // One folder per setting and seed, each a complete run with its resolved config.
    let mut first_losses: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut final_accuracy: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for setting in settings {
        for seed in [0u64, 1] {
            let run = out.join(format!("{setting}-seed={seed}"));
            for file in [
                "config.toml",
                "metrics.csv",
                "trace.csv",
                "model.safetensors",
            ] {
                assert!(
                    run.join(file).is_file(),
                    "{} missing",
                    run.join(file).display()
                );
            }
            let config: toml::Table =
                toml::from_str(&std::fs::read_to_string(run.join("config.toml")).unwrap()).unwrap();
            assert_eq!(config["seed"].as_integer(), Some(seed as i64));
            assert_eq!(
                config["epochs"].as_integer(),
                Some(1),
                "--epochs overrides the config"
            );
            let momentum = if setting.ends_with("0.8") { 0.8 } else { 0.9 };
            assert_eq!(config["optimizer"]["momentum"].as_float(), Some(momentum));
            let (h, rows) = csv(&run.join("trace.csv"));
            assert_eq!(rows.len(), 30, "max_steps = 30");
            let loss = h.iter().position(|c| c == "loss").unwrap();
            first_losses
                .entry(seed)
                .or_default()
                .push(rows[0][loss].clone());
            let (h, rows) = csv(&run.join("metrics.csv"));
            final_accuracy
                .entry(setting)
                .or_default()
                .push(column(&h, &rows, "test_accuracy")[rows.len() - 1]);
        }
    }
    let dirs = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(dirs, 8, "2 configs x 2 values x 2 seeds");
    // The first step's loss depends only on the initial weights and the first batch: equal for
    // every setting with the same seed, different between seeds.
    for losses in first_losses.values() {
        assert!(losses.iter().all(|l| *l == losses[0]), "{losses:?}");
    }
    assert_ne!(first_losses[&0][0], first_losses[&1][0]);

    // summary.csv: one row per setting, its varied value, mean and sample std over the seeds.
    let (header, rows) = csv(&out.join("summary.csv"));
    for col in [
        "name",
        "config",
        "optimizer.momentum",
        "seeds",
        "final_test_accuracy_mean",
        "final_test_accuracy_std",
        "best_test_accuracy_mean",
        "best_test_accuracy_std",
        "best_epoch",
        "final_train_loss_mean",
        "final_train_loss_std",
        "seconds",
        "runs_failed",
        "status",
    ] {
        assert!(header.iter().any(|h| h == col), "no {col} in {header:?}");
    }
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, settings);
    let momenta = column(&header, &rows, "optimizer.momentum");
    assert_eq!(momenta, [0.8, 0.9, 0.8, 0.9]);
    let means = column(&header, &rows, "final_test_accuracy_mean");
    let stds = column(&header, &rows, "final_test_accuracy_std");
    for (i, setting) in settings.iter().enumerate() {
        let acc = &final_accuracy[setting];
        let mean = (acc[0] + acc[1]) / 2.0;
        let std = (acc[0] - acc[1]).abs() / 2f64.sqrt();
        assert!(
            (means[i] - mean).abs() < 1e-3,
            "{setting}: {} vs {mean}",
            means[i]
        );
        assert!(
            (stds[i] - std).abs() < 1e-3,
            "{setting}: {} vs {std}",
            stds[i]
        );
        assert!(mean > 50.0, "30 steps learn something: {mean}");
        assert_eq!(rows[i][3], "0;1");
        assert_eq!(
            rows[i][header.iter().position(|h| h == "status").unwrap()],
            "ok"
        );
    }
    assert_eq!(column(&header, &rows, "runs_failed"), [0.0; 4]);
    assert_eq!(column(&header, &rows, "best_epoch"), [1.0; 4]);

    // The charts: well-formed SVG, one legend entry and one line (and band) per setting and
    // panel, each setting in its own colour, the same on every chart.
    let mut colours: Option<Vec<(String, String)>> = None;
    for (file, panels) in [
        ("lr.svg", 1),
        ("train_loss.svg", 1),
        ("test_accuracy.svg", 1),
        ("update_ratio.svg", 2),
    ] {
        let svg = std::fs::read_to_string(out.join(file)).unwrap();
        assert_well_formed(&svg, "svg", file);
        let entries = legend(&svg);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, settings, "{file}: legend");
        for (name, colour) in &entries {
            assert_eq!(
                entries.iter().filter(|(_, c)| c == colour).count(),
                1,
                "{file}: {name} shares its colour"
            );
            let has = |tag: &&str, attr: &str| attribute(tag, attr).as_deref() == Some(colour);
            let lines = elements(&svg, "polyline")
                .into_iter()
                .filter(|t| has(t, "stroke"));
            let bands = elements(&svg, "polygon")
                .into_iter()
                .filter(|t| has(t, "fill"));
            if file == "test_accuracy.svg" {
                // One epoch: one dot per setting, and the seed spread as a whisker.
                let dots = elements(&svg, "circle")
                    .into_iter()
                    .filter(|t| has(t, "fill"));
                assert_eq!(dots.count(), 1, "{file}: dots of {name}");
                let whiskers = lines.filter(|t| {
                    points(t) == 2 && attribute(t, "stroke-width").as_deref() == Some("2")
                });
                assert_eq!(whiskers.count(), 1, "{file}: whiskers of {name}");
            } else if file == "lr.svg" {
                // The lr is drawn as steps: only flat and vertical segments, one point per
                // step where it holds, two where it changes (the cosine's every step).
                let lr: Vec<&str> = lines.filter(|t| points(t) >= 30).collect();
                assert_eq!(lr.len(), panels, "{file}: lines of {name}");
                let xy = xy_points(lr[0]);
                let steps = if name.starts_with("cosine") { 59 } else { 30 };
                assert_eq!(xy.len(), steps, "{file}: points of {name}");
                for pair in xy.windows(2) {
                    assert!(
                        pair[0].0 == pair[1].0 || pair[0].1 == pair[1].1,
                        "{file}: {name} has a sloped segment {pair:?}"
                    );
                }
            } else {
                assert_eq!(
                    lines.filter(|t| points(t) == 30).count(),
                    panels,
                    "{file}: lines of {name}"
                );
                assert_eq!(
                    bands.filter(|t| points(t) == 60).count(),
                    panels,
                    "{file}: seed bands of {name}"
                );
            }
        }
        match &colours {
            None => colours = Some(entries),
            Some(first) => assert_eq!(first, &entries, "{file}: colours differ from lr.svg"),
        }
    }
    assert!(std::fs::read_to_string(out.join("test_accuracy.svg"))
        .unwrap()
        .contains("test accuracy (%)"));

    // report.html: the table as a person reads it and the interactive charts' data, in one
    // file that fetches nothing; the SVGs linked beside it.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<th>Final test accuracy (%)</th>") && !html.contains("_mean"),
        "the table's headers are words"
    );
    for (i, setting) in settings.iter().enumerate() {
        assert!(
            html.contains(&format!("<td>{setting}</td>")),
            "{setting} not in the table"
        );
        let acc = &final_accuracy[setting];
        let mean = (acc[0] + acc[1]) / 2.0;
        let std = (acc[0] - acc[1]).abs() / 2f64.sqrt();
        assert!(
            html.contains(&format!(">{mean:.2} ± {std:.2}")),
            "{setting}: no {mean:.2} ± {std:.2} cell ({i})"
        );
    }
    let data = report_data(&html);
    let charts = data["charts"].as_array().unwrap();
    let ids: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "lr",
            "train_loss",
            "test_accuracy",
            "ratio_fc1",
            "ratio_fc2"
        ]
    );
    for chart in charts {
        let names: Vec<&str> = chart["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, settings, "{}", chart["id"]);
        let points = if chart["id"] == "test_accuracy" {
            1
        } else {
            30
        };
        assert_eq!(chart["x"].as_array().unwrap().len(), points);
        for s in chart["series"].as_array().unwrap() {
            assert_eq!(s["y"].as_array().unwrap().len(), points);
        }
    }
    // The lr of every setting is the mean over its seeds of trace.csv's lr, step by step.
    let lr = &charts[0]["series"][0]["y"];
    assert_eq!(lr[0].as_f64(), Some(0.1));
    for file in [
        "lr.svg",
        "train_loss.svg",
        "test_accuracy.svg",
        "update_ratio.svg",
    ] {
        assert!(
            html.contains(&format!("<a href=\"{file}\">")),
            "{file} not linked"
        );
    }
    // uPlot's banner names its home page; nothing else may hold an address.
    let uplot = include_str!("../crates/trainer/assets/uplot/uPlot.iife.min.js");
    assert_eq!(html.matches(uplot).count(), 1, "uPlot is inlined once");
    let ours = html.replace(uplot, "");
    for banned in [
        "http://", "https://", "<link", "src=", "<svg", "@import", "url(",
    ] {
        assert!(!ours.contains(banned), "report.html contains {banned}");
    }

    // The terminal table: a line per setting with mean ± std.
    for setting in settings {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(setting))
            .unwrap_or_else(|| panic!("{setting} not printed:\n{stdout}"));
        assert!(line.contains('±') && line.ends_with("ok"), "{line}");
    }
}

#[test]
fn a_diverging_setting_is_reported_and_the_others_finish() {
    let dir = tempfile::tempdir().unwrap();
    let (step, _) = write_configs(dir.path());
    let out = dir.path().join("cmp");
    let output = compare(&[
        &step,
        "--grid",
        "optimizer.lr=0.1,1000",
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    // Exit status 3: some runs failed, the others finished and everything was written.
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let (header, rows) = csv(&out.join("summary.csv"));
    // One seed: plain columns, no mean/std.
    assert!(
        header.iter().any(|h| h == "final_test_accuracy"),
        "{header:?}"
    );
    assert!(!header.iter().any(|h| h.ends_with("_std")), "{header:?}");
    assert_eq!(rows.len(), 2);
    let status = header.iter().position(|h| h == "status").unwrap();
    let failed = header.iter().position(|h| h == "runs_failed").unwrap();
    let accuracy = header
        .iter()
        .position(|h| h == "final_test_accuracy")
        .unwrap();
    let good = rows.iter().find(|r| r[0] == "steplr-lr=0.1").unwrap();
    let bad = rows.iter().find(|r| r[0] == "steplr-lr=1000").unwrap();
    assert_eq!((good[failed].as_str(), good[status].as_str()), ("0", "ok"));
    assert!(good[accuracy].parse::<f64>().unwrap() > 50.0);
    assert_eq!(bad[failed], "1");
    // The status is the error's first line; the CSV quotes it (it has commas), so the row has
    // more cells here: join the rest back.
    let bad_status = bad[status..].join(",");
    assert!(
        bad_status.contains("failed: seed=7: the run diverged at step"),
        "{bad_status}"
    );
    assert_eq!(bad[accuracy], "");
    assert!(out.join("steplr-lr=0.1-seed=7/model.safetensors").is_file());
    assert!(!out.join("steplr-lr=1000-seed=7/model.safetensors").exists());
    let line = stdout
        .lines()
        .find(|l| l.starts_with("steplr-lr=1000"))
        .unwrap();
    assert!(line.contains("diverged"), "{stdout}");
    // The charts draw the finished setting and name the failed one as not drawn.
    let svg = std::fs::read_to_string(out.join("train_loss.svg")).unwrap();
    assert_well_formed(&svg, "svg", "train_loss.svg");
    let names: Vec<String> = legend(&svg).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["steplr-lr=0.1"]);
    assert!(svg.contains("not drawn (every run failed)"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<tr class=\"failed\">"));
}

#[test]
fn a_bad_grid_key_fails_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let (step, cosine) = write_configs(dir.path());
    let out = dir.path().join("cmp");
    for (grid, named) in [
        ("scheduler.gama=0.5", "gama"),
        ("optimiser.lr=0.1", "optimiser"),
        ("scheduler.gamma=0.5,0.9", "gamma"), // StepLR has it, CosineAnnealingLR does not
        ("data.batch_size=0", "data.batch_size"),
    ] {
        let output = compare(&[
            &step,
            &cosine,
            "--grid",
            grid,
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{grid} was accepted");
        assert!(
            stderr.contains(&format!("--grid {}", grid.split(',').next().unwrap()))
                || stderr.contains(grid),
            "{grid}: {stderr}"
        );
        assert!(stderr.contains(named), "{grid}: {stderr}");
        assert!(
            !out.exists(),
            "{grid}: something was written before the error"
        );
    }
    let output = compare(&[
        &step,
        "--grid",
        "optimizer.lr",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("KEY=V1,V2"));
    assert!(!out.exists());
}

/// Ctrl-C during a comparison: the run under way checkpoints, nothing further starts, the
/// summary and report cover what finished (the rest marked "not run"), the exit status is 130
/// with the command that continues the interrupted run, and that command finishes it.
#[test]
fn ctrl_c_stops_after_the_current_step_and_still_writes_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steplr.toml");
    std::fs::write(
        &config,
        "epochs = 4\nseed = 3\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n[scheduler]\nname = \"StepLR\"\nstep_size = 1\ngamma = 0.5\n",
    )
    .unwrap();
    let out = dir.path().join("cmp");
    let child = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("compare")
        .arg(&config)
        .args(["--grid", "optimizer.lr=0.1,0.05", "--seeds", "0,1", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Signal once the first run has finished its first epoch (its metrics.csv exists).
    let first_epoch_done = || {
        std::fs::read_dir(&out).ok().is_some_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().join("metrics.csv").is_file())
        })
    };
    let start = std::time::Instant::now();
    while !first_epoch_done() && start.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("compare interrupted"), "{stderr}");

    // The summary lists every setting; the one not reached says so.
    let (header, rows) = csv(&out.join("summary.csv"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    let status_col = header.iter().position(|h| h == "status").unwrap();
    let statuses: Vec<&str> = rows.iter().map(|r| r[status_col].as_str()).collect();
    assert!(
        statuses.iter().any(|s| s.contains("interrupted")),
        "{statuses:?}"
    );
    assert!(statuses.contains(&"not run"), "{statuses:?}");
    assert!(out.join("report.html").is_file());

    // The interrupted run continues to its end from its checkpoint.
    let resume_dir = stderr
        .rsplit("trainer train --resume ")
        .next()
        .unwrap()
        .trim();
    assert!(Path::new(resume_dir)
        .join("checkpoint.safetensors")
        .is_file());
    let resumed = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["train", "--resume", resume_dir, "--quiet"])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let (_, epochs) = csv(&Path::new(resume_dir).join("metrics.csv"));
    assert_eq!(epochs.len(), 4);
}
