//! Creating a tracker: the three tier directories, `merge=union` for op
//! files, git-ignores for stealth items and the human's `config.yaml`, and
//! the config template (copied to a read-only `config.yaml`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::config::DEFAULT_CONFIG_YAML;
use crate::error::Result;
use crate::items::tiers::Tier;

/// Writes `text` to `path` unless the file exists. Returns whether it wrote.
fn write_new(path: &Path, text: &str) -> Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    fs::write(path, text)?;
    Ok(true)
}

/// Lays out a tracker under `root` (the `.agent/` directory). Idempotent:
/// existing files are left alone.
pub fn init(root: &Path) -> Result<()> {
    for tier in Tier::ALL {
        fs::create_dir_all(tier.dir(root))?;
    }
    for tier in [Tier::Canonical, Tier::Workspace] {
        write_new(
            &tier.dir(root).join(".gitattributes"),
            "*.ops merge=union\n",
        )?;
    }
    write_new(&Tier::Stealth.dir(root).join(".gitignore"), "*.ops\n")?;
    let tracker = root.join("tracker");
    write_new(&tracker.join(".gitignore"), "config.yaml\n")?;
    let template = tracker.join("config.yaml.template");
    write_new(&template, DEFAULT_CONFIG_YAML)?;
    let config = tracker.join("config.yaml");
    if !config.exists() {
        fs::copy(&template, &config)?;
    }
    // The human's config is read-only: a governance boundary, not a convenience.
    fs::set_permissions(&config, fs::Permissions::from_mode(0o444))?;
    Ok(())
}
