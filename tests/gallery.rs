//! The scheduler gallery (`docs/gallery/`) cannot rot: every config is re-run with the exact
//! `trainer schedule` command written in its second line, and the chart it draws now must have
//! the same curves (the `<polyline>` points, in order) as the SVG checked in beside it. Every
//! PyTorch scheduler (and each CyclicLR / OneCycleLR mode) has a picture, and the gallery's
//! README shows each one with its config.
//!
//! After a deliberate change to a schedule or to the chart layout, regenerate the pictures with
//! `GALLERY_UPDATE=1 cargo test --test gallery` and review them.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The modes the gallery shows apart from the class itself: (scheduler class, mode or anneal
/// strategy). Every other class of `optim::SCHEDULER_NAMES` needs one picture.
const MODES: [(&str, &[&str]); 2] = [
    ("CyclicLR", &["triangular", "triangular2", "exp_range"]),
    ("OneCycleLR", &["cos", "linear", "three_phase"]),
];

/// What the gallery must cover: (scheduler class, mode if it has several), for every scheduler.
fn required() -> Vec<(&'static str, &'static str)> {
    let mut required = Vec::new();
    for &name in optim::SCHEDULER_NAMES {
        match MODES.iter().find(|(class, _)| *class == name) {
            Some((_, modes)) => required.extend(modes.iter().map(|mode| (name, *mode))),
            None => required.push((name, "")),
        }
    }
    required
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn gallery_configs() -> Vec<PathBuf> {
    let dir = root().join("docs/gallery");
    let mut configs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    configs.sort();
    configs
}

/// The arguments after `trainer schedule` in the config's `# trainer schedule ...` line.
fn command_of(config: &Path) -> Vec<String> {
    let text = fs::read_to_string(config).expect("readable config");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("# trainer schedule "))
        .unwrap_or_else(|| {
            panic!(
                "{} has no `# trainer schedule ...` line saying how its picture is made",
                config.display()
            )
        });
    line.split_whitespace().map(str::to_string).collect()
}

fn flag<'a>(args: &'a [String], name: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == name)
        .unwrap_or_else(|| panic!("the command {args:?} has no {name}"));
    &args[at + 1]
}

/// The `points` attribute of every `<polyline>`, in document order.
fn polylines(svg: &str) -> Vec<String> {
    svg.match_indices("<polyline")
        .map(|(at, _)| {
            let tag = &svg[at..at + svg[at..].find('>').expect("the polyline tag ends")];
            let start = tag.find("points=\"").expect("a polyline has points") + 8;
            tag[start..start + tag[start..].find('"').expect("points end")].to_string()
        })
        .collect()
}

/// A minimal well-formedness check: one `<svg>` root, every element closed in order, and the
/// text nodes (titles, labels) returned.
fn texts_of_well_formed(svg: &str, file: &Path) -> Vec<String> {
    let mut body = svg.trim_start();
    if body.starts_with("<?xml") {
        body = &body[body.find("?>").expect("the XML declaration ends") + 2..];
    }
    assert!(
        body.trim_start().starts_with("<svg"),
        "{}: not rooted at <svg>",
        file.display()
    );
    let (mut stack, mut texts, mut rest, mut closed) = (Vec::<String>::new(), vec![], body, false);
    while let Some(open) = rest.find('<') {
        let text = rest[..open].trim();
        if !text.is_empty() {
            assert!(!stack.is_empty(), "{}: text outside <svg>", file.display());
            texts.push(text.to_string());
        }
        let close = open + rest[open..].find('>').expect("every tag ends");
        let tag = &rest[open + 1..close];
        assert!(!closed, "{}: content after </svg>", file.display());
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "{}",
                file.display()
            );
            closed = stack.is_empty();
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("a tag has a name");
            stack.push(name.to_string());
        }
        rest = &rest[close + 1..];
    }
    assert!(closed, "{}: <svg> is never closed", file.display());
    texts
}

/// The scheduler class and mode a config describes (from its `[scheduler]` table).
fn class_of(config: &Path) -> (String, String) {
    let text = fs::read_to_string(config).expect("readable config");
    let value = |key: &str| {
        let mut in_scheduler = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_scheduler = line == "[scheduler]";
            } else if in_scheduler {
                if let Some(v) = line.strip_prefix(key).map(str::trim) {
                    if let Some(v) = v.strip_prefix('=') {
                        return Some(v.trim().trim_matches('"').to_string());
                    }
                }
            }
        }
        None
    };
    let name = value("name").unwrap_or_else(|| panic!("{}: no scheduler name", config.display()));
    let mode = match name.as_str() {
        "CyclicLR" => value("mode").unwrap_or_else(|| "triangular".into()),
        "OneCycleLR" if value("three_phase").as_deref() == Some("true") => "three_phase".into(),
        "OneCycleLR" => value("anneal_strategy").unwrap_or_else(|| "cos".into()),
        _ => String::new(),
    };
    (name, mode)
}

#[test]
fn every_gallery_picture_is_what_its_config_draws_now() {
    let update = std::env::var_os("GALLERY_UPDATE").is_some();
    let tmp = tempfile::tempdir().expect("temp dir");
    let configs = gallery_configs();
    assert!(!configs.is_empty(), "docs/gallery has no configs");
    for config in &configs {
        let rel = |p: &Path| {
            p.strip_prefix(root())
                .expect("inside the repository")
                .to_string_lossy()
                .into_owned()
        };
        let mut args = command_of(config);
        assert_eq!(
            flag(&args, "--config"),
            rel(config),
            "the command must plot its own config"
        );
        let svg_rel = flag(&args, "--plot").to_string();
        assert_eq!(
            svg_rel,
            rel(&config.with_extension("svg")),
            "the picture must sit beside its config"
        );
        let fresh = tmp
            .path()
            .join(Path::new(&svg_rel).file_name().expect("a file name"));
        let at = args
            .iter()
            .position(|a| a == "--plot")
            .expect("checked above");
        args[at + 1] = fresh.to_string_lossy().into_owned();

        let out = Command::new(env!("CARGO_BIN_EXE_trainer"))
            .arg("schedule")
            .args(&args)
            .arg("--csv")
            .current_dir(root())
            .output()
            .expect("trainer runs");
        assert!(
            out.status.success(),
            "`trainer schedule {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        let steps: usize = flag(&args, "--steps").parse().expect("--steps is a number");
        let csv = String::from_utf8(out.stdout).expect("utf-8 CSV");
        assert_eq!(csv.lines().next(), Some("step,lr,momentum"));
        assert_eq!(
            csv.lines().count(),
            steps + 2,
            "header, row 0 and one row per step"
        );

        let now = fs::read_to_string(&fresh).expect("the chart was drawn");
        let checked_in = root().join(&svg_rel);
        if update {
            fs::write(&checked_in, &now).expect("write the gallery picture");
        }
        let old = fs::read_to_string(&checked_in).unwrap_or_else(|_| {
            panic!(
                "{svg_rel} is missing: make it with `GALLERY_UPDATE=1 cargo test --test gallery`"
            )
        });
        let texts = texts_of_well_formed(&old, &checked_in);
        let (class, _) = class_of(config);
        let title = format!("{class}: lr per scheduler step");
        assert!(texts.contains(&title), "{svg_rel} has no title `{title}`");
        let (lines_now, lines_old) = (polylines(&now), polylines(&old));
        assert!(!lines_old.is_empty(), "{svg_rel} draws no curve");
        assert!(
            lines_now == lines_old,
            "{svg_rel} no longer shows what `trainer schedule {}` draws; if the change is \
             intended, regenerate with `GALLERY_UPDATE=1 cargo test --test gallery`",
            command_of(config).join(" ")
        );
    }
}

#[test]
fn the_gallery_covers_every_scheduler_and_its_readme_shows_each_picture() {
    let configs = gallery_configs();
    let covered: BTreeSet<(String, String)> = configs.iter().map(|c| class_of(c)).collect();
    for (class, mode) in required() {
        assert!(
            covered.contains(&(class.to_string(), mode.to_string())),
            "docs/gallery has no config for {class} {mode}"
        );
    }
    let readme = fs::read_to_string(root().join("docs/gallery/README.md")).expect("gallery README");
    for config in &configs {
        let stem = config.file_stem().expect("a name").to_string_lossy();
        assert!(
            readme.contains(&format!("({stem}.svg)")),
            "docs/gallery/README.md does not show {stem}.svg"
        );
        assert!(
            readme.contains(&format!("{stem}.toml")),
            "docs/gallery/README.md does not name {stem}.toml"
        );
    }
}
