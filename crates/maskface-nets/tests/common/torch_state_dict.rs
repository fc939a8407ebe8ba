//! Writes PyTorch state dicts in the zip format of PyTorch 1.6+ without
//! PyTorch: a pickle (protocol 2) of an `OrderedDict` of tensors rebuilt by
//! `torch._utils._rebuild_tensor_v2` from persistent storages, and one
//! stored entry per storage, little-endian. Keys and shapes come from
//! `tests/fixtures/state_dicts/*.txt`, recorded from the reference
//! implementations by `scripts/reference_state_dicts.py`.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// One entry of a state dict.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key, as the reference implementation names it.
    pub key: String,
    /// The shape (empty for a scalar).
    pub shape: Vec<usize>,
}

impl Entry {
    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Batch norms' step counters are 64-bit integers; the rest are floats.
    pub fn is_counter(&self) -> bool {
        self.key.ends_with(".num_batches_tracked")
    }
}

/// A recorded reference: its trainable parameter count and its entries.
pub struct Reference {
    /// `sum(p.numel() for p in model.parameters())`.
    pub params: usize,
    /// Every state-dict entry, in the reference's order.
    pub entries: Vec<Entry>,
}

/// Reads `tests/fixtures/state_dicts/NAME.txt`.
pub fn reference(name: &str) -> Reference {
    let path = super::tests_dir().join(format!("fixtures/state_dicts/{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let params = lines
        .next()
        .and_then(|l| l.strip_prefix("# params "))
        .unwrap()
        .parse()
        .unwrap();
    let entries = lines
        .map(|line| {
            let mut words = line.split(' ');
            Entry {
                key: words.next().unwrap().to_string(),
                shape: words.map(|d| d.parse().unwrap()).collect(),
            }
        })
        .collect();
    Reference { params, entries }
}

/// The value written at element `i` of tensor `t`: a hash of both, in
/// `[-1, 1)`, so that no two tensors share their first value and any
/// misplaced element shows.
pub fn value(t: usize, i: usize) -> f32 {
    let mut x = (t as u64) << 40 ^ i as u64 ^ 0x9E37_79B9_7F4A_7C15;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// Writes `entries` as a PyTorch zip file; tensor `t`'s elements are
/// [`value`]`(t, i)` (the counters: `t`).
pub fn write(path: &Path, entries: &[Entry]) {
    let mut zip = ZipWriter::new(File::create(path).unwrap());
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    zip.start_file("archive/data.pkl", stored).unwrap();
    zip.write_all(&pickle(entries)).unwrap();
    zip.start_file("archive/byteorder", stored).unwrap();
    zip.write_all(b"little").unwrap();
    for (t, entry) in entries.iter().enumerate() {
        zip.start_file(format!("archive/data/{t}"), stored).unwrap();
        let bytes: Vec<u8> = if entry.is_counter() {
            (t as i64).to_le_bytes().to_vec()
        } else {
            (0..entry.numel())
                .flat_map(|i| value(t, i).to_le_bytes())
                .collect()
        };
        zip.write_all(&bytes).unwrap();
    }
    zip.start_file("archive/version", stored).unwrap();
    zip.write_all(b"3\n").unwrap();
    zip.finish().unwrap();
}

fn pickle(entries: &[Entry]) -> Vec<u8> {
    let mut p = Pickle(vec![0x80, 2]);
    p.global("collections", "OrderedDict");
    p.op(b")R(");
    for (t, entry) in entries.iter().enumerate() {
        p.string(&entry.key);
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.op(b"((");
        p.string("storage");
        let storage = if entry.is_counter() {
            "LongStorage"
        } else {
            "FloatStorage"
        };
        p.global("torch", storage);
        p.string(&t.to_string());
        p.string("cpu");
        p.int(entry.numel().max(1));
        p.op(b"tQ");
        p.int(0);
        p.ints(&entry.shape);
        let strides: Vec<usize> = (0..entry.shape.len())
            .map(|d| entry.shape[d + 1..].iter().product())
            .collect();
        p.ints(&strides);
        p.op(&[0x89]); // NEWFALSE: requires_grad
        p.global("collections", "OrderedDict");
        p.op(b")Rt");
        p.op(b"R");
    }
    p.op(b"u.");
    p.0
}

struct Pickle(Vec<u8>);

impl Pickle {
    fn op(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn global(&mut self, module: &str, name: &str) {
        self.0.push(b'c');
        self.0
            .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
    }

    fn string(&mut self, s: &str) {
        self.0.push(b'X');
        self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn int(&mut self, v: usize) {
        self.0.push(b'J');
        self.0
            .extend_from_slice(&i32::try_from(v).unwrap().to_le_bytes());
    }

    fn ints(&mut self, values: &[usize]) {
        self.op(b"(");
        for &v in values {
            self.int(v);
        }
        self.op(b"t");
    }
}
