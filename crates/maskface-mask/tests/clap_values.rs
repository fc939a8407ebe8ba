//! The command-line values of the `clap` feature: the names and help texts
//! `maskface generate --help` showed before the library's enums took over
//! from the program's own copies.
#![cfg(feature = "clap")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::ValueEnum;
use maskface_mask::{PaperColor, Variant};

fn values<T: ValueEnum>() -> Vec<(String, String)> {
    T::value_variants()
        .iter()
        .map(|v| {
            let p = v.to_possible_value().unwrap();
            let help = p.get_help().map(ToString::to_string).unwrap_or_default();
            (p.get_name().to_string(), help)
        })
        .collect()
}

fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect()
}

#[test]
fn variants_keep_their_command_line_names_and_help() {
    assert_eq!(
        values::<Variant>(),
        expected(&[
            (
                "masked-upper",
                "The masked upper part, resized to --upper-size"
            ),
            ("masked-full", "The whole masked crop"),
            ("unmasked-full", "The crop without a mask"),
            ("unmasked-upper", "The unmasked upper part"),
            (
                "masked-chip",
                "The masked face aligned for recognition (150x150, dlib's chip)"
            ),
            ("masked-chip-upper", "The masked chip, black below the cut"),
            ("unmasked-chip", "The aligned chip without a mask"),
        ])
    );
    for v in Variant::ALL {
        let parsed = Variant::from_str(&v.as_str().replace('_', "-"), false).unwrap();
        assert_eq!(parsed, v);
    }
}

#[test]
fn paper_colours_keep_their_command_line_names_and_help() {
    assert_eq!(
        values::<PaperColor>(),
        expected(&[
            ("black", "(0, 0, 0)"),
            ("white", "(255, 255, 255)"),
            ("sky-blue", "(135, 206, 250)"),
        ])
    );
}
