//! The `[optimizer]` and `[scheduler]` tables of a config file checked against the classes'
//! arguments (names and types) while the file's text is at hand, so that a typo in them is
//! reported with its line like a top-level one (`at line 11, column 1 `gama = 0.9`: in
//! [scheduler]: unknown field `gama`, expected `step_size` or `gamma``), not later, when the
//! optimizer is built from a table that no longer knows where it came from.
//!
//! Only names and types are checked here; the values (lr > 0, ...) are checked when the
//! optimizer and scheduler are built. The scheduler table is checked as the class receives
//! it: without the trainer's `interval` and `monitor`, with every `"auto"` horizon standing for
//! a number (the run's length is not known yet), and not at all for `name = "none"`.

use toml::de::{DeInteger, DeTable, DeValue, ValueDeserializer};

use super::{location, TRAINER_SCHEDULER_KEYS};

/// Checks the two tables of the config text `text` (a text that does not parse is left to the
/// main parser, which reports it).
pub fn check_tables(text: &str) -> anyhow::Result<()> {
    let Ok(doc) = DeTable::parse(text) else {
        return Ok(());
    };
    let mut doc = doc.into_inner();
    if let Some(mut optimizer) = doc.remove("optimizer") {
        // `name` left out means SGD.
        if let DeValue::Table(t) = optimizer.get_mut() {
            if !t.contains_key("name") {
                t.insert(
                    toml::Spanned::new(0..0, "name".into()),
                    toml::Spanned::new(0..0, DeValue::String("SGD".into())),
                );
            }
        }
        let places = table_places(&optimizer);
        let result: Result<optim::OptimizerConfig, _> =
            serde::Deserialize::deserialize(ValueDeserializer::from(optimizer));
        if let Err(e) = result {
            return Err(located(text, "optimizer", &places, &e));
        }
    }
    if let Some(mut scheduler) = doc.remove("scheduler") {
        if let DeValue::Table(t) = scheduler.get_mut() {
            if t.get("name").and_then(|n| n.get_ref().as_str()) == Some("none") {
                return Ok(());
            }
            let trainer_keys: Vec<_> = t
                .keys()
                .filter(|k| TRAINER_SCHEDULER_KEYS.contains(&k.get_ref().as_ref()))
                .cloned()
                .collect();
            for key in trainer_keys {
                t.remove(&key);
            }
        }
        auto_as_number(scheduler.get_mut());
        let places = table_places(&scheduler);
        let result: Result<optim::SchedulerConfig, _> =
            serde::Deserialize::deserialize(ValueDeserializer::from(scheduler));
        if let Err(e) = result {
            return Err(located(text, "scheduler", &places, &e));
        }
    }
    Ok(())
}

/// An error about a value of `[optimizer]` or `[scheduler]` found when the optimizer or the
/// scheduler is built (`in [optimizer]: SGD: invalid `lr` = -0.1; ...`), placed at the key's
/// line of the config text when the key is in that table and holds the value the message
/// quotes (a value given by a flag instead is not the file's fault: the error comes back as
/// it is, as `Err`).
pub fn at_value_line(text: &str, e: anyhow::Error) -> Result<anyhow::Error, anyhow::Error> {
    let message = format!("{e:#}");
    let Some(table) = ["optimizer", "scheduler"]
        .into_iter()
        .find(|t| message.contains(&format!("in [{t}]")))
    else {
        return Err(e);
    };
    let Some(key) = message.split('`').nth(1) else {
        return Err(e);
    };
    let Ok(doc) = DeTable::parse(text) else {
        return Err(e);
    };
    let entry = doc
        .get_ref()
        .get(table)
        .and_then(|t| t.get_ref().as_table())
        .and_then(|t| t.get_key_value(key));
    match entry {
        Some((k, v)) if text.get(v.span()).is_some_and(|raw| message.contains(raw)) => {
            let start = k.span().start;
            Ok(e.context(location(text, Some(start..start))))
        }
        _ => Err(e),
    }
}

/// Where a table's parts are in the text.
struct TablePlaces {
    /// Where the table starts (its header line).
    start: usize,
    /// Each key, where its line starts, and where its value is.
    keys: Vec<(String, usize, std::ops::Range<usize>)>,
}

fn table_places(value: &toml::Spanned<DeValue<'_>>) -> TablePlaces {
    let keys = match value.get_ref() {
        DeValue::Table(t) => t
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), k.span().start, v.span()))
            .collect(),
        _ => Vec::new(),
    };
    TablePlaces {
        start: value.span().start,
        keys,
    }
}

/// The error at the line of the key it is about: the key it names (`unknown field `K``), else
/// the one key whose value it quotes (`invalid type: string "fast"`), else where the parser
/// placed it, else the table's first line (a missing key has no line of its own).
fn located(text: &str, table: &str, places: &TablePlaces, e: &toml::de::Error) -> anyhow::Error {
    let message = e.message().trim();
    // The first quoted name is the key in question (`unknown field `K`, expected one of ...`).
    let first_quoted = message.split('`').nth(1);
    let named = places
        .keys
        .iter()
        .find(|(k, _, _)| Some(k.as_str()) == first_quoted);
    let quoted: Vec<_> = places
        .keys
        .iter()
        .filter(|(_, _, v)| text.get(v.clone()).is_some_and(|raw| message.contains(raw)))
        .collect();
    let start = match (named, quoted.as_slice()) {
        (Some((_, start, _)), _) | (None, [(_, start, _)]) => *start,
        _ => e.span().map_or(places.start, |s| s.start),
    };
    anyhow::anyhow!("in [{table}]: {}", shorten_quoted(message))
        .context(location(text, Some(start..start)))
}

/// Every `"auto"` string in the value, at any depth, made the number 0: the horizon is only
/// known when the run is, and the check here is of names and types.
fn auto_as_number(value: &mut DeValue<'_>) {
    match value {
        DeValue::String(s) if s == "auto" => *value = DeValue::Integer(DeInteger::default()),
        DeValue::Table(t) => {
            for (_, v) in t.iter_mut() {
                auto_as_number(v.get_mut());
            }
        }
        DeValue::Array(a) => {
            for v in a.iter_mut() {
                auto_as_number(v.get_mut());
            }
        }
        _ => {}
    }
}

/// At most this many characters of a quoted name are echoed in a message.
const QUOTED_MAX: usize = 60;

/// The message with every `quoted` name longer than [`QUOTED_MAX`] characters cut, with an
/// ellipsis and its length (a 1 MB key is not echoed whole).
pub fn shorten_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(4096));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let chars = part.chars().count();
        if i % 2 == 1 && chars > QUOTED_MAX {
            out.extend(part.chars().take(QUOTED_MAX));
            out.push_str(&format!("… ({chars} characters)"));
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quoted_names_are_cut() {
        let key = "k".repeat(1000);
        let short = shorten_quoted(&format!("unknown field `{key}`, expected `lr`"));
        assert!(short.starts_with(&format!("unknown field `{}…", "k".repeat(60))));
        assert!(
            short.ends_with("(1000 characters)`, expected `lr`"),
            "{short}"
        );
        assert_eq!(shorten_quoted("a `b` c"), "a `b` c");
    }

    #[test]
    fn table_typos_name_their_line() {
        let text = "epochs = 1\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentm = 0.9\n";
        let e = format!("{:#}", check_tables(text).unwrap_err());
        assert!(
            e.contains("at line 5") && e.contains("`momentm = 0.9`"),
            "{e}"
        );
        assert!(e.contains("in [optimizer]: unknown field `momentm`"), "{e}");
        let text =
            "[scheduler]\nname = \"StepLR\"\nstep_size = 4\n\ngama = 0.9\ninterval = \"epoch\"\n";
        let e = format!("{:#}", check_tables(text).unwrap_err());
        assert!(
            e.contains("at line 5") && e.contains("unknown field `gama`"),
            "{e}"
        );
    }

    #[test]
    fn value_errors_name_the_line_of_the_file_value() {
        let text = "[optimizer]\nname = \"SGD\"\nlr = -0.1\n";
        let e = anyhow::anyhow!("SGD: invalid `lr` = -0.1; allowed: a finite number >= 0")
            .context("in [optimizer]");
        let e = format!("{:#}", at_value_line(text, e).unwrap());
        assert!(
            e.starts_with("at line 3, column 1 `lr = -0.1`: in [optimizer]"),
            "{e}"
        );
        // The value came from a flag: the file's line would mislead.
        let e = anyhow::anyhow!("SGD: invalid `lr` = -5; allowed: a finite number >= 0")
            .context("in [optimizer]");
        assert!(at_value_line(text, e).is_err());
    }

    #[test]
    fn trainer_keys_auto_and_none_pass() {
        let text = "[scheduler]\nname = \"CosineAnnealingLR\"\nT_max = \"auto\"\n\
                    interval = \"step\"\n[optimizer]\nname = \"SGD\"\nlr = 0.1\n";
        check_tables(text).unwrap();
        check_tables("[scheduler]\nname = \"none\"\ninterval = \"epoch\"\n").unwrap();
        check_tables("[scheduler\n").unwrap(); // left to the main parser
    }
}
