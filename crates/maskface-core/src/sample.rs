use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Which part of a dataset a sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Used to fit models.
    Train,
    /// Used to choose checkpoints and hyper-parameters.
    Val,
    /// Held out for the final figures.
    Test,
    /// Not assigned yet (a curated dataset before `maskface split`).
    Unassigned,
}

impl Split {
    /// The three assigned splits, in manifest order.
    pub const ASSIGNED: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// The lowercase name used in manifests and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
            Split::Unassigned => "unassigned",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        match s {
            "train" => Ok(Split::Train),
            "val" | "valid" | "validation" => Ok(Split::Val),
            "test" => Ok(Split::Test),
            "unassigned" | "" => Ok(Split::Unassigned),
            other => Err(CoreError::InvalidParameter {
                name: "split",
                reason: format!(
                    "unknown split `{other}` (expected train, val, test or unassigned)"
                ),
            }),
        }
    }
}

/// A person and the class label the dataset gives them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    /// The person's name as in LFW (`George_W_Bush`).
    pub name: String,
    /// Class index, `0..n_identities`.
    pub label: u32,
}

/// One image of a dataset: one row of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sample {
    /// The image, relative to the dataset root ([`crate::DatasetInfo::root`]).
    pub path: PathBuf,
    /// The person's name.
    pub identity: String,
    /// The person's class label.
    pub label: u32,
    /// The split the sample belongs to.
    pub split: Split,
    /// For derived images (augmented, masked), the image it was made from,
    /// relative to the same root; `None` for originals.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub origin: Option<PathBuf>,
    /// For derived images, what was done to the origin (for example
    /// `rotate(-12.41)`); empty for originals.
    #[serde(default)]
    pub transform: String,
}

impl Sample {
    /// An original (non-derived) sample.
    pub fn new(
        path: impl Into<PathBuf>,
        identity: impl Into<String>,
        label: u32,
        split: Split,
    ) -> Self {
        Sample {
            path: path.into(),
            identity: identity.into(),
            label,
            split,
            origin: None,
            transform: String::new(),
        }
    }

    /// The key a sharded job hashes to place this sample
    /// ([`Shard::owns`](crate::Shard::owns)): its path with `/` separators,
    /// so that a manifest written on Windows shards the same way.
    pub fn shard_key(&self) -> String {
        self.path.to_string_lossy().replace('\\', "/")
    }
}

fn empty_as_none<'de, D>(d: D) -> Result<Option<PathBuf>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.filter(|s| !s.is_empty()).map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_roundtrip() {
        for s in [Split::Train, Split::Val, Split::Test, Split::Unassigned] {
            assert_eq!(s.as_str().parse::<Split>().unwrap(), s);
        }
        assert!("training".parse::<Split>().is_err());
    }
}
