//! `trainer schedule`: exact CSV for the issue's example config, ReduceLROnPlateau with
//! `--metrics`, config errors, and a well-formed SVG from `--plot`.

use std::path::Path;
use std::process::{Command, Output};

const ISSUE_EXAMPLE: &str = r#"
epochs = 5
seed = 1

[data]
dir = "data/fashion-mnist"

[optimizer]
name = "SGD"
lr = 0.1
momentum = 0.9
nesterov = true

[scheduler]
name = "SequentialLR"
milestones = [3]
[[scheduler.schedulers]]
name = "LinearLR"
start_factor = 0.1
total_iters = 3
[[scheduler.schedulers]]
name = "ExponentialLR"
gamma = 0.9
"#;

const PLATEAU: &str = r#"
[optimizer]
name = "SGD"
lr = 0.1
momentum = 0.9
nesterov = true

[scheduler]
name = "ReduceLROnPlateau"
mode = "max"
factor = 0.5
patience = 1
interval = "epoch"
monitor = "test_accuracy"
"#;

const ONE_CYCLE: &str = r#"
[optimizer]
name = "SGD"
lr = 0.1
momentum = 0.9

[scheduler]
name = "OneCycleLR"
max_lr = 0.1
total_steps = 20
interval = "step"
"#;

fn write_config(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp dir is writable");
    path
}

fn schedule(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("schedule")
        .args(args)
        .output()
        .expect("the trainer binary runs")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn issue_example_prints_the_exact_csv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), "run.toml", ISSUE_EXAMPLE);
    let out = schedule(&[
        "--config",
        config.to_str().expect("utf-8 path"),
        "--steps",
        "10",
    ]);
    let expected = "step,lr,momentum\n\
        0,0.010000000000000002,0.9\n\
        1,0.04,0.9\n\
        2,0.07,0.9\n\
        3,0.1,0.9\n\
        4,0.09000000000000001,0.9\n\
        5,0.08100000000000002,0.9\n\
        6,0.07290000000000002,0.9\n\
        7,0.06561000000000002,0.9\n\
        8,0.05904900000000002,0.9\n\
        9,0.05314410000000002,0.9\n\
        10,0.04782969000000002,0.9\n";
    assert_eq!(stdout(&out), expected);

    // The same numbers as PyTorch's (fixture `sequential_warmup_exp`, the same schedule).
    let fixtures: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/pytorch_schedules.json"
        ))
        .expect("fixture"),
    )
    .expect("JSON");
    let case = fixtures["schedulers"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == "sequential_warmup_exp")
        .expect("case exists");
    let pytorch: Vec<f64> = case["expected_lr"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    let ours: Vec<f64> = expected
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).expect("lr").parse().expect("f64"))
        .collect();
    assert_eq!(ours, pytorch);
}

#[test]
fn plateau_uses_one_metric_per_step_and_explains_cuts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), "plateau.toml", PLATEAU);
    let config = config.to_str().expect("utf-8 path");
    let out = schedule(&[
        "--config",
        config,
        "--steps",
        "8",
        "--metrics",
        "88,88,88,89,89,89,89,90",
    ]);
    let lrs: Vec<String> = stdout(&out)
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).expect("lr").to_string())
        .collect();
    assert_eq!(
        lrs,
        ["0.1", "0.1", "0.1", "0.05", "0.05", "0.05", "0.025", "0.025", "0.025"]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("step 3:") && stderr.contains("lr 0.1 -> 0.05"),
        "{stderr}"
    );

    let missing = schedule(&["--config", config, "--steps", "8"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--metrics"));
    assert!(missing.stdout.is_empty(), "no partial CSV on error");

    let short = schedule(&["--config", config, "--steps", "8", "--metrics", "88,88"]);
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("2 values"));

    let nan = schedule(&["--config", config, "--steps", "2", "--metrics", "88,nan"]);
    assert!(!nan.status.success());
    assert!(String::from_utf8_lossy(&nan.stderr).contains("NaN"));
}

#[test]
fn config_typo_is_an_error_that_names_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    // (file, text replaced in the issue's example, by what, what the error must mention)
    let cases: [(&str, &str, &str, &[&str]); 3] = [
        (
            "typo.toml",
            "start_factor",
            "start_factr",
            &["start_factr", "start_factor", "[scheduler]"],
        ),
        (
            "name.toml",
            "\"ExponentialLR\"",
            "\"ExpLR\"",
            &["ExpLR", "ExponentialLR"],
        ),
        (
            "range.toml",
            "start_factor = 0.1",
            "start_factor = 0.0",
            &["start_factor", "(0, 1]"],
        ),
    ];
    for (file, from, to, needles) in cases {
        let config = write_config(dir.path(), file, &ISSUE_EXAMPLE.replace(from, to));
        let out = schedule(&[
            "--config",
            config.to_str().expect("utf-8 path"),
            "--steps",
            "3",
        ]);
        assert!(!out.status.success(), "{file}");
        assert!(
            out.stdout.is_empty(),
            "{file}: nothing on stdout after an error"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{file}: {needle:?} missing from {stderr}"
            );
        }
    }

    let out = schedule(&[
        "--config",
        dir.path().join("absent.toml").to_str().expect("utf-8"),
        "--steps",
        "3",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.toml"));
}

/// Check that `svg` is one well-formed XML element tree rooted at <svg>; returns the text nodes.
fn parse_svg(svg: &str) -> Vec<String> {
    let body = svg.trim_start();
    let body = if body.starts_with("<?xml") {
        &body[body.find("?>").expect("xml declaration ends") + 2..]
    } else {
        body
    };
    assert!(
        body.trim_start().starts_with("<svg"),
        "the document is not rooted at <svg>"
    );
    let mut stack: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut rest = body;
    let mut closed_root = false;
    while let Some(open) = rest.find('<') {
        let text = rest[..open].trim();
        if !text.is_empty() {
            assert!(!stack.is_empty(), "text outside the root element: {text}");
            texts.push(text.to_string());
        }
        let close = rest[open..].find('>').expect("every tag ends") + open;
        let tag = &rest[open + 1..close];
        assert!(!closed_root, "content after the closing </svg>");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched closing tag"
            );
            closed_root = stack.is_empty();
        } else if !tag.ends_with('/') && !tag.starts_with('!') {
            stack.push(tag.split_whitespace().next().expect("tag name").to_string());
        }
        rest = &rest[close + 1..];
    }
    assert!(
        stack.is_empty() && closed_root,
        "unclosed elements: {stack:?}"
    );
    texts
}

#[test]
fn plot_writes_a_well_formed_svg_with_the_series() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), "one_cycle.toml", ONE_CYCLE);
    let svg_path = dir.path().join("one_cycle.svg");
    let out = schedule(&[
        "--config",
        config.to_str().expect("utf-8"),
        "--steps",
        "20",
        "--plot",
        svg_path.to_str().expect("utf-8"),
    ]);
    // With --plot, stdout says what was written instead of holding the CSV.
    assert_eq!(
        stdout(&out),
        format!("wrote {}\n", svg_path.display()),
        "no CSV without --csv"
    );
    let svg = std::fs::read_to_string(&svg_path).expect("the chart was written");
    let texts = parse_svg(&svg);
    // One series per panel: named by its axis label, no legend box.
    for label in [
        "OneCycleLR: lr per scheduler step",
        "momentum",
        "learning rate",
        "scheduler step",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no text `{label}` in the chart: {texts:?}"
        );
    }
    assert!(svg.matches("<polyline").count() >= 2, "one line per series");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "only the config and the chart: {leftovers:?}"
    );

    // Constant momentum: a single panel, no momentum series. With --csv the CSV stays on
    // stdout and the `wrote` line goes to stderr.
    let config = write_config(dir.path(), "run.toml", ISSUE_EXAMPLE);
    let svg_path = dir.path().join("warmup.svg");
    let out = schedule(&[
        "--config",
        config.to_str().expect("utf-8"),
        "--steps",
        "10",
        "--plot",
        svg_path.to_str().expect("utf-8"),
        "--csv",
    ]);
    let csv = stdout(&out);
    assert_eq!(csv.lines().next(), Some("step,lr,momentum"));
    assert_eq!(csv.lines().count(), 12, "header, row 0 and 10 steps");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("wrote {}\n", svg_path.display())
    );
    let texts = parse_svg(&std::fs::read_to_string(&svg_path).expect("written"));
    assert!(texts
        .iter()
        .any(|t| t == "SequentialLR: lr per scheduler step"));
    assert!(!texts.iter().any(|t| t == "momentum"));

    // An unwritable destination is an error and leaves nothing behind.
    let bad = dir.path().join("no/such/dir/chart.svg");
    let out = schedule(&[
        "--config",
        config.to_str().expect("utf-8"),
        "--steps",
        "3",
        "--plot",
        bad.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(!bad.exists());
}

/// The (x, y) pixel points of the first polyline drawn in `colour`.
fn line_points(svg: &str, colour: &str) -> Vec<(f64, f64)> {
    let tag = svg
        .split("<polyline")
        .find(|t| t.contains(&format!("stroke=\"{colour}\"")))
        .expect("a line in that colour");
    let start = tag.find("points=\"").expect("points") + 8;
    let end = start + tag[start..].find('"').expect("closing quote");
    tag[start..end]
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect()
}

#[test]
fn a_step_schedule_is_drawn_as_steps_on_an_axis_from_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The issue's example: StepLR(step_size=4, gamma=0.96), a 4% cut every 4 steps.
    let config = write_config(
        dir.path(),
        "step.toml",
        "[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n\
         [scheduler]\nname = \"StepLR\"\nstep_size = 4\ngamma = 0.96\n",
    );
    let svg_path = dir.path().join("step.svg");
    stdout(&schedule(&[
        "--config",
        config.to_str().expect("utf-8"),
        "--steps",
        "12",
        "--plot",
        svg_path.to_str().expect("utf-8"),
    ]));
    let svg = std::fs::read_to_string(&svg_path).expect("written");
    let texts = parse_svg(&svg);
    let line = line_points(&svg, "#0072B2");
    // Flat stretches and vertical cuts only, three cuts (after steps 4, 8 and 12).
    for pair in line.windows(2) {
        assert!(
            pair[0].0 == pair[1].0 || pair[0].1 == pair[1].1,
            "a sloped segment {pair:?} in {line:?}"
        );
    }
    let cuts = line.windows(2).filter(|p| p[0].0 == p[1].0).count();
    assert_eq!(cuts, 3, "{line:?}");
    // The y axis starts at 0: a tick labelled 0, and the three 4% cuts together take about an
    // eighth of the plot's height (0.1 -> 0.0885 on an axis to 0.105), not all of it.
    assert!(texts.iter().any(|t| t == "0"), "{texts:?}");
    let (top, bottom) = (line[0].1, line[line.len() - 1].1);
    let axis_height = 400.0 - 39.0;
    assert!(
        (bottom - top) < 0.2 * axis_height,
        "the cuts span {} of {axis_height} px",
        bottom - top
    );
}

#[test]
fn every_text_of_the_one_cycle_chart_is_inside_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), "one_cycle.toml", ONE_CYCLE);
    let svg_path = dir.path().join("one_cycle.svg");
    stdout(&schedule(&[
        "--config",
        config.to_str().expect("utf-8"),
        "--steps",
        "20",
        "--plot",
        svg_path.to_str().expect("utf-8"),
    ]));
    let svg = std::fs::read_to_string(&svg_path).expect("written");
    let width: f64 = svg
        .split("width=\"")
        .nth(1)
        .and_then(|w| w.split('"').next())
        .and_then(|w| w.parse().ok())
        .expect("the svg's width");
    // No legend box at the panels' right edge (each panel's one series is named by its axis
    // label): the only rectangle is the white background.
    assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
    // Each text's extent, at a generous 0.6 em per character, within [0, width].
    for tag in svg.split("<text").skip(1) {
        let attr = |name: &str| {
            let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(tag[start..start + tag[start..].find('"')?].to_string())
        };
        if attr("transform").is_some() {
            continue; // the rotated y-axis labels run vertically
        }
        let x: f64 = attr("x").expect("x").parse().expect("number");
        let size: f64 = attr("font-size").expect("size").parse().expect("number");
        let text = tag[tag.find('>').expect("tag end") + 1..]
            .split('<')
            .next()
            .expect("text")
            .trim();
        let w = 0.6 * size * text.chars().count() as f64;
        let (left, right) = match attr("text-anchor").as_deref() {
            Some("middle") => (x - w / 2.0, x + w / 2.0),
            Some("end") => (x - w, x),
            _ => (x, x + w),
        };
        assert!(
            left >= 0.0 && right <= width,
            "`{text}` spans {left:.0}..{right:.0} of {width}"
        );
    }
}
