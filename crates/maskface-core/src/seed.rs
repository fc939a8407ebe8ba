use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The seed every seeded step uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 42;

/// FNV-1a, 64-bit: a fixed, documented hash for deriving random streams from
/// names (std's hasher may change between Rust releases; this never does).
///
/// ```
/// assert_eq!(maskface_core::fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The random generator for one item of seeded work: ChaCha8 seeded with
/// `seed`, on the stream named by `key` (for example an image's path and a
/// copy number).
///
/// Each item gets its own independent stream, so results depend only on the
/// seed and the item, never on the order in which threads process items or
/// on which other items are present. ChaCha8's output is fixed by its
/// specification, so a seed gives the same numbers on every platform.
///
/// ```
/// use rand::Rng;
/// let a: u64 = maskface_core::rng_for(7, "Ada/Ada_0001.jpg#1").random();
/// let b: u64 = maskface_core::rng_for(7, "Ada/Ada_0001.jpg#1").random();
/// let c: u64 = maskface_core::rng_for(7, "Ada/Ada_0001.jpg#2").random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
pub fn rng_for(seed: u64, key: &str) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(fnv1a64(key.as_bytes()));
    rng
}
