//! dlib's portable serialization, read from a byte slice: what dlib's model
//! files (shape predictors, DNNs) are made of.
//!
//! Every read checks the bytes left before it allocates, so a truncated or
//! foreign file gives an error at the offset where it went wrong instead of
//! a panic or an allocation sized by garbage.

/// Where and why decoding stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    /// Byte offset in the file.
    pub offset: usize,
    /// What was wrong there.
    pub reason: String,
}

/// The result of a read.
pub type Decoded<T> = Result<T, DecodeError>;

/// A cursor over a serialized dlib object.
pub struct DlibReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> DlibReader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        DlibReader { bytes, pos: 0 }
    }

    /// The current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// An error at the current offset.
    pub fn fail<T>(&self, reason: impl Into<String>) -> Decoded<T> {
        Err(DecodeError {
            offset: self.pos,
            reason: reason.into(),
        })
    }

    fn byte(&mut self) -> Decoded<u8> {
        match self.bytes.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.fail("unexpected end of file"),
        }
    }

    /// An integer: a control byte (bit 7 sign, low 4 bits the byte count,
    /// 1..=8) and the magnitude, little-endian. Returns (negative, magnitude).
    #[inline(always)]
    fn int_parts(&mut self) -> Decoded<(bool, u64)> {
        // A model is millions of these: away from the file's end, one
        // 8-byte load and a mask, inlined, with every error out of line.
        if let Some((&control, word)) = self.bytes[self.pos..]
            .first_chunk::<9>()
            .and_then(|c| c.split_first())
        {
            let size = usize::from(control & 0x0F);
            if (1..=8).contains(&size) && control & 0x70 == 0 {
                let mut b = [0u8; 8];
                b.copy_from_slice(word);
                self.pos += 1 + size;
                let v = u64::from_le_bytes(b) & (u64::MAX >> (64 - 8 * size));
                return Ok((control & 0x80 != 0, v));
            }
        }
        self.int_parts_checked()
    }

    /// [`DlibReader::int_parts`] a byte at a time, with its errors.
    #[cold]
    #[inline(never)]
    fn int_parts_checked(&mut self) -> Decoded<(bool, u64)> {
        let control = self.byte()?;
        let size = usize::from(control & 0x0F);
        // dlib rejects a zero size and treats bits 4..=6 as reserved.
        if size == 0 || size > 8 || control & 0x70 != 0 {
            self.pos -= 1;
            return self.fail(format!("invalid integer control byte 0x{control:02x}"));
        }
        if self.remaining() < size {
            return self.fail("unexpected end of file inside an integer");
        }
        let mut v = 0u64;
        for (i, &b) in self.bytes[self.pos..self.pos + size].iter().enumerate() {
            v |= u64::from(b) << (8 * i);
        }
        self.pos += size;
        Ok((control & 0x80 != 0, v))
    }

    /// A signed integer.
    pub fn i64(&mut self) -> Decoded<i64> {
        let start = self.pos;
        let (neg, mag) = self.int_parts()?;
        match i64::try_from(mag) {
            Ok(v) => Ok(if neg { -v } else { v }),
            Err(_) => Err(DecodeError {
                offset: start,
                reason: "integer out of range".into(),
            }),
        }
    }

    /// An unsigned integer (a set sign bit is an error, as in dlib).
    pub fn u64(&mut self) -> Decoded<u64> {
        let start = self.pos;
        let (neg, mag) = self.int_parts()?;
        if neg {
            return Err(DecodeError {
                offset: start,
                reason: "negative value where an unsigned integer was expected".into(),
            });
        }
        Ok(mag)
    }

    /// The two integers of a serialized float: the mantissa, then the
    /// exponent (`Err` for the old text format or an exponent out of
    /// range); exponents 32000, 32001 and 32002 stand for +inf, -inf and
    /// NaN and are returned as they are.
    fn float_parts(&mut self) -> Decoded<(i64, i64)> {
        if let Some(&b) = self.bytes.get(self.pos) {
            if b & 0x70 != 0 {
                return self.fail("floating-point number in dlib's old text format");
            }
        }
        let mantissa = self.i64()?;
        let start = self.pos;
        let exponent = self.i64()?;
        if (-2000..2000).contains(&exponent) || (32000..=32002).contains(&exponent) {
            return Ok((mantissa, exponent));
        }
        Err(DecodeError {
            offset: start,
            reason: format!("floating-point exponent {exponent} out of range"),
        })
    }

    /// A float: mantissa then exponent, both integers.
    #[inline]
    pub fn f32(&mut self) -> Decoded<f32> {
        let start = self.pos;
        match self.finite_f32() {
            Some(v) => Ok(v),
            None => {
                self.pos = start;
                self.f32_checked()
            }
        }
    }

    /// The common case of [`DlibReader::f32`], tried first: two well-formed
    /// integers, an exponent in range. `None` (with the position moved)
    /// for anything else, which [`DlibReader::f32_checked`] then reads again.
    #[inline(always)]
    fn finite_f32(&mut self) -> Option<f32> {
        let (m_neg, m) = self.int_parts().ok()?;
        let (e_neg, e) = self.int_parts().ok()?;
        let m = i64::try_from(m).ok()?;
        let e = i64::try_from(e).ok().filter(|e| *e < 2000)?;
        let (m, e) = (if m_neg { -m } else { m }, if e_neg { -e } else { e });
        // dlib converts the mantissa to float first, then scales by a
        // power of two (std::ldexp), which is exact.
        (e >= -2000).then(|| ((m as f32) as f64 * pow2(e)) as f32)
    }

    /// [`DlibReader::f32`] with every check and error.
    #[cold]
    #[inline(never)]
    fn f32_checked(&mut self) -> Decoded<f32> {
        let (mantissa, exponent) = self.float_parts()?;
        Ok(match exponent {
            32000 => f32::INFINITY,
            32001 => f32::NEG_INFINITY,
            32002 => f32::NAN,
            // dlib converts the mantissa to float first, then scales by a
            // power of two (std::ldexp), which is exact.
            e => ((mantissa as f32) as f64 * pow2(e)) as f32,
        })
    }

    /// A double, in the same format as [`DlibReader::f32`].
    pub fn f64(&mut self) -> Decoded<f64> {
        let (mantissa, exponent) = self.float_parts()?;
        Ok(match exponent {
            32000 => f64::INFINITY,
            32001 => f64::NEG_INFINITY,
            32002 => f64::NAN,
            e => mantissa as f64 * pow2(e),
        })
    }

    /// A bool: the ASCII byte `1` or `0`.
    pub fn bool(&mut self) -> Decoded<bool> {
        match self.byte()? {
            b'1' => Ok(true),
            b'0' => Ok(false),
            other => {
                self.pos -= 1;
                self.fail(format!("expected a bool ('0' or '1'), found 0x{other:02x}"))
            }
        }
    }

    /// A string: its length, then its bytes (UTF-8 expected).
    pub fn string(&mut self) -> Decoded<String> {
        let n = self.len(1)?;
        let start = self.pos;
        let text = std::str::from_utf8(&self.bytes[start..start + n]).map_err(|_| DecodeError {
            offset: start,
            reason: "a string that is not UTF-8".into(),
        })?;
        self.pos += n;
        Ok(text.to_string())
    }

    /// The version string of a record, which must be one of `expected`.
    pub fn expect_string(&mut self, expected: &[&str]) -> Decoded<String> {
        let start = self.pos;
        let s = self.string()?;
        if expected.contains(&s.as_str()) {
            return Ok(s);
        }
        Err(DecodeError {
            offset: start,
            reason: format!("found `{s}` where {} was expected", expected.join(" or ")),
        })
    }

    /// An integer that must equal `expected` (a version number, a fixed size).
    pub fn expect_int(&mut self, expected: i64, what: &str) -> Decoded<()> {
        let start = self.pos;
        let v = self.i64()?;
        if v == expected {
            return Ok(());
        }
        Err(DecodeError {
            offset: start,
            reason: format!("{what} is {v}, expected {expected}"),
        })
    }

    /// A tensor (`resizable_tensor`): version 2, the sizes `n, k, nr, nc`,
    /// then the values as raw little-endian `f32`. Returns the sizes and
    /// the values.
    pub fn tensor(&mut self) -> Decoded<([usize; 4], Vec<f32>)> {
        self.expect_int(2, "the tensor version")?;
        let dims = self.dims4()?;
        let start = self.pos;
        let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let bytes = count.and_then(|c| c.checked_mul(4));
        match bytes {
            Some(b) if b <= self.remaining() => {
                let values = self.bytes[start..start + b]
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                self.pos += b;
                Ok((dims, values))
            }
            _ => self.fail(format!(
                "a tensor of {dims:?} runs past the end of the file ({} bytes left)",
                self.remaining()
            )),
        }
    }

    /// An `alias_tensor` (a view's shape, no data): version 1 and the sizes.
    pub fn alias_tensor(&mut self) -> Decoded<[usize; 4]> {
        self.expect_int(1, "the alias tensor version")?;
        self.dims4()
    }

    fn dims4(&mut self) -> Decoded<[usize; 4]> {
        let mut dims = [0usize; 4];
        for d in &mut dims {
            let start = self.pos;
            *d = usize::try_from(self.i64()?).map_err(|_| DecodeError {
                offset: start,
                reason: "a negative tensor size".into(),
            })?;
        }
        Ok(dims)
    }

    /// A collection length, checked against the bytes left: every element
    /// takes at least `min_element_bytes`.
    pub fn len(&mut self, min_element_bytes: usize) -> Decoded<usize> {
        let start = self.pos;
        let n = self.u64()?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n.saturating_mul(min_element_bytes) > self.remaining() {
            return Err(DecodeError {
                offset: start,
                reason: format!(
                    "length {n} needs more than the {} bytes left",
                    self.remaining()
                ),
            });
        }
        Ok(n)
    }

    /// A `matrix<float,0,1>`: -rows, -cols (negative marks the current
    /// format), then the elements row by row.
    pub fn column_f32(&mut self) -> Decoded<Vec<f32>> {
        let start = self.pos;
        let rows = self.i64()?;
        let cols = self.i64()?;
        if rows > 0 || cols > 0 {
            return Err(DecodeError {
                offset: start,
                reason: "matrix in dlib's old format (positive dimensions)".into(),
            });
        }
        if cols != -1 && !(rows == 0 && cols == 0) {
            return Err(DecodeError {
                offset: start,
                reason: format!("expected a column vector, found {}x{}", -rows, -cols),
            });
        }
        let n = usize::try_from(-rows).unwrap_or(usize::MAX);
        // A float takes at least 4 bytes (two integers of at least 2 bytes).
        if n.saturating_mul(4) > self.remaining() {
            return self.fail(format!("matrix of {n} elements runs past the end of file"));
        }
        let mut column = Vec::with_capacity(n);
        for _ in 0..n {
            column.push(self.f32()?);
        }
        Ok(column)
    }
}

/// `2^e` for the normal doubles, `2^-1022` first.
const POW2: [f64; 2046] = {
    let mut table = [0f64; 2046];
    let mut i = 0;
    while i < table.len() {
        table[i] = f64::from_bits((i as u64 + 1) << 52);
        i += 1;
    }
    table
};

/// `2^e` (the exponents [`DlibReader::float_parts`] lets through), exact
/// like `powi`. A table: `powi` is a loop of products, the most of a
/// model's load time, and LLVM turns the bit pattern of `2^e` computed
/// inline back into a call to it.
fn pow2(e: i64) -> f64 {
    match usize::try_from(e + 1022).ok().and_then(|i| POW2.get(i)) {
        Some(&p) => p,
        None => 2f64.powi(e as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_is_powi() {
        for e in -2000..2000 {
            assert_eq!(pow2(e).to_bits(), 2f64.powi(e as i32).to_bits(), "2^{e}");
        }
    }

    /// Integers of every width read the same with the file's end right
    /// after them (the byte loop) and with bytes to spare (the 8-byte load).
    #[test]
    fn integers_of_every_width_decode_anywhere() {
        for size in 1..=8usize {
            for value in [1u64, 0x80, 0xfedc_ba98_7654_3210, u64::MAX] {
                let v = if size == 8 {
                    value
                } else {
                    value & ((1 << (8 * size)) - 1)
                };
                let mut bytes = vec![0x80 | size as u8];
                bytes.extend_from_slice(&v.to_le_bytes()[..size]);
                let at_end = bytes.clone();
                bytes.extend([0xff; 9]);
                for b in [&at_end, &bytes] {
                    let mut r = DlibReader::new(b);
                    assert_eq!(r.int_parts(), Ok((true, v)), "{size} bytes");
                    assert_eq!(r.offset(), 1 + size);
                }
                let cut = &at_end[..size];
                let mut r = DlibReader::new(cut);
                assert_eq!(
                    r.int_parts().map_err(|e| e.offset),
                    Err(1),
                    "{size} bytes, cut"
                );
            }
        }
    }

    #[test]
    fn integers_floats_and_matrices_decode() {
        // 300 = 0x012c: two bytes. -5: sign bit plus one byte.
        let bytes = [0x02, 0x2c, 0x01, 0x81, 0x05];
        let mut r = DlibReader::new(&bytes);
        assert_eq!(r.u64(), Ok(300));
        assert_eq!(r.i64(), Ok(-5));
        // 0.75 = 3 * 2^-2; then +inf.
        let bytes = [0x01, 0x03, 0x81, 0x02, 0x01, 0x01, 0x02, 0x00, 0x7d];
        let mut r = DlibReader::new(&bytes);
        assert_eq!(r.f32(), Ok(0.75));
        assert_eq!(r.f32(), Ok(f32::INFINITY));
        // A 2x1 column: -2, -1, then 1.0 (1 * 2^0) and -3.0 (-3 * 2^0).
        let bytes = [
            0x81, 0x02, 0x81, 0x01, 0x01, 0x01, 0x01, 0x00, 0x81, 0x03, 0x01, 0x00,
        ];
        let mut r = DlibReader::new(&bytes);
        assert_eq!(r.column_f32(), Ok(vec![1.0, -3.0]));
        assert_eq!(r.remaining(), 0);
        // A 2x2 matrix is not a column.
        let bytes = [0x81, 0x02, 0x81, 0x02];
        assert!(DlibReader::new(&bytes).column_f32().is_err());
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(DlibReader::new(&[]).u64().is_err());
        assert!(DlibReader::new(&[0x00]).u64().is_err());
        assert!(DlibReader::new(&[0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0])
            .u64()
            .is_err());
        assert!(DlibReader::new(&[0x04, 1, 2]).u64().is_err());
        assert!(DlibReader::new(&[0x81, 0x01]).u64().is_err());
        // A length of 2^40 with 3 bytes left.
        let err = DlibReader::new(&[0x06, 0, 0, 0, 0, 0, 1, 0, 0, 0])
            .len(1)
            .unwrap_err();
        assert!(err.reason.contains("bytes left"), "{err:?}");
        // Text where a float should be.
        assert!(DlibReader::new(b"3.14 ").f32().is_err());
        // A tensor whose data is cut short.
        let mut t = vec![0x01, 0x02, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x01];
        t.extend_from_slice(&1.5f32.to_le_bytes());
        let err = DlibReader::new(&t).tensor().unwrap_err();
        assert!(err.reason.contains("past the end"), "{err:?}");
        assert!(DlibReader::new(&[0x05, b'a', b'b']).string().is_err());
        assert!(DlibReader::new(b"x").bool().is_err());
    }

    #[test]
    fn strings_bools_doubles_and_tensors_decode() {
        // "con_4", '1', double 1.0 (16 * 2^-4), a 1x2x1x1 tensor.
        let mut b = vec![0x01, 0x05];
        b.extend_from_slice(b"con_4");
        b.push(b'1');
        b.extend_from_slice(&[0x01, 0x10, 0x81, 0x04]);
        b.extend_from_slice(&[0x01, 0x02, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x01]);
        b.extend_from_slice(&1.5f32.to_le_bytes());
        b.extend_from_slice(&(-2.0f32).to_le_bytes());
        let mut r = DlibReader::new(&b);
        assert_eq!(r.expect_string(&["con_4", "con_5"]).unwrap(), "con_4");
        assert_eq!(r.bool(), Ok(true));
        assert_eq!(r.f64(), Ok(1.0));
        assert_eq!(r.tensor(), Ok(([1, 2, 1, 1], vec![1.5, -2.0])));
        assert_eq!(r.remaining(), 0);
        let err = DlibReader::new(&b).expect_string(&["fc_2"]).unwrap_err();
        assert!(err.reason.contains("found `con_4` where fc_2 was expected"));
    }
}
