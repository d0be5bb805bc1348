//! `optim::SCHEDULER_NAMES` is the one list of scheduler classes: checkpoints accept the names
//! in it, and the PyTorch fixture, state round-trip and gallery tests each fail if a class in it
//! lacks their case. This test closes the loop: every scheduler file in `src/scheduler/` (found
//! by its `pub const NAME`) is in the list, every name in the list is a class the config reader
//! knows, and saved states name their class with it.

use std::collections::BTreeSet;

use optim::{SchedulerConfig, SCHEDULER_NAMES};

/// The `NAME` each scheduler file declares (`pub const NAME: &'static str = "StepLR";`).
fn names_in_scheduler_files() -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/scheduler");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src/scheduler is a directory") {
        let path = entry.expect("directory entry").path();
        let text = std::fs::read_to_string(&path).expect("readable source");
        for line in text.lines() {
            if let Some(rest) = line
                .trim()
                .strip_prefix("pub const NAME: &'static str = \"")
            {
                let name = rest.split('"').next().expect("a quoted name");
                assert!(
                    names.insert(name.to_string()),
                    "{name} is declared twice ({})",
                    path.display()
                );
            }
        }
    }
    names
}

#[test]
fn every_scheduler_file_is_in_the_list_of_names() {
    let in_files = names_in_scheduler_files();
    let listed: BTreeSet<String> = SCHEDULER_NAMES.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        listed.len(),
        SCHEDULER_NAMES.len(),
        "a name is listed twice"
    );
    assert_eq!(
        in_files, listed,
        "the scheduler files and optim::SCHEDULER_NAMES differ; add the new class's NAME to the list"
    );
}

/// Each listed name is a class the config reader knows: `{"name": X}` alone fails for a missing
/// argument or builds, never for an unknown class.
#[test]
fn every_listed_name_is_a_config_class() {
    for &name in SCHEDULER_NAMES {
        match serde_json::from_value::<SchedulerConfig>(serde_json::json!({ "name": name })) {
            Ok(config) => assert_eq!(config.name(), name),
            Err(e) => assert!(
                e.to_string().starts_with("missing field"),
                "{name}: {e} (SchedulerConfig does not know it)"
            ),
        }
    }
}
