//! Finding the data directory, with a warning when `$FASHION_MNIST_DIR` was passed over.

use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::console;

/// [`fashion::find_data_dir`], and when the search (no `explicit` directory) found the data
/// somewhere else than a set `$FASHION_MNIST_DIR`, a warning on stderr naming the variable, its
/// path and what is wrong with it (once per process: `compare` loads the data for every run).
pub fn find(explicit: Option<&Path>) -> Result<PathBuf, fashion::Error> {
    let dir = fashion::find_data_dir(explicit)?;
    if explicit.is_none() {
        if let Some((env, why)) = fashion::locate::env_dir_problem() {
            static WARNED: Once = Once::new();
            WARNED.call_once(|| {
                console::eprintln(format_args!(
                    "warning: ${} is {} ({why}); using {} instead",
                    fashion::locate::DATA_DIR_ENV,
                    env.display(),
                    dir.display()
                ));
            });
        }
    }
    Ok(dir)
}
