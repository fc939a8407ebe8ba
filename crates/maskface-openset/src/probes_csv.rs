//! Every probe's scores as a table people can read (`probes.csv`).

use std::path::Path;

use maskface_core::{write_atomic, Sample};

use crate::{OpenSetError, Probe, Score};

/// Writes `probes.csv`: one row per probe, the `targets` first and then the
/// `strangers`, with its kind, path, identity, label (targets only), the
/// label the first score's column predicts, and the value of each score.
/// `columns[k][i]` is probe `i` under `scores[k]`.
pub fn write_probes_csv(
    path: &Path,
    targets: &[&Sample],
    strangers: &[&Sample],
    scores: &[Score],
    columns: &[Vec<Probe>],
) -> Result<(), OpenSetError> {
    let rows = targets.len() + strangers.len();
    if let Some(c) = columns.iter().find(|c| c.len() != rows) {
        return Err(OpenSetError::Data(format!(
            "{} probes in a column for {rows} targets and strangers",
            c.len()
        )));
    }
    let mut text = String::from("kind,path,identity,label,predicted");
    for s in scores {
        text.push(',');
        text.push_str(s.name());
    }
    text.push('\n');
    let rows = targets
        .iter()
        .map(|s| ("target", s))
        .chain(strangers.iter().map(|s| ("stranger", s)));
    for (i, (kind, s)) in rows.enumerate() {
        let label = if kind == "target" {
            s.label.to_string()
        } else {
            String::new()
        };
        let predicted = columns.first().map_or(0, |c| c[i].predicted);
        text.push_str(&format!(
            "{kind},{},{},{label},{predicted}",
            s.path.display(),
            s.identity
        ));
        for c in columns {
            text.push_str(&format!(",{}", c[i].score));
        }
        text.push('\n');
    }
    write_atomic(path, |w| w.write_all(text.as_bytes())).map_err(|source| OpenSetError::Write {
        path: path.to_path_buf(),
        source,
    })
}
