//! Compact JSON output, byte for byte what `serde_json::to_vec` writes, with a
//! faster string escaper.
//!
//! serde_json checks every byte of a string against its escape table one at a
//! time; for a request body that is mostly conversation text that loop was a
//! fifth of the whole translation. Here a string is scanned eight bytes at a
//! time and copied in runs. Numbers are written by serde_json itself, and
//! `serde_json::value::RawValue` (and so [`super::RawJson`]) is written as the
//! raw text it holds.

use std::fmt::Display;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// Why a value could not be written: a map key that is not a string, number or
/// `bool`, or a custom `Serialize` impl that failed.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// `value` as compact JSON, appended to `out`.
pub fn to_writer<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Writer { out })
}

/// `value` as compact JSON in a new buffer of at least `capacity` bytes (a good
/// guess saves the buffer's regrowth on large bodies).
pub fn to_vec_with_capacity<T: Serialize + ?Sized>(
    value: &T,
    capacity: usize,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(capacity);
    to_writer(&mut out, value)?;
    Ok(out)
}

/// `value` as a compact JSON string.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let out = to_vec_with_capacity(value, 128)?;
    // Everything written is UTF-8: strings are copied whole or escaped to ASCII.
    String::from_utf8(out).map_err(|e| Error(e.to_string()))
}

/// The name serde_json gives the one-field struct a `RawValue` serialises as.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// `s` as a JSON string literal, escaped exactly as serde_json escapes it:
/// `"` and `\`, the short forms `\b \t \n \f \r`, other control characters as
/// `\u00XX`; everything else (including non-ASCII) as it is.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0; // start of the bytes not yet copied
    let mut i = 0;
    while let Some(at) = next_escape(bytes, i) {
        let byte = bytes[at];
        out.extend_from_slice(&bytes[run..at]);
        match ESCAPE[byte as usize] {
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(byte >> 4) as usize],
                    HEX[(byte & 0xf) as usize],
                ]);
            }
            short => out.extend_from_slice(&[b'\\', short]),
        }
        i = at + 1;
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// The index of the first byte at or after `from` that must be escaped:
/// clean 64-byte blocks are skipped a block at a time, then the byte is found
/// word by word from the word's mask, and among the last few bytes one by one.
fn next_escape(bytes: &[u8], mut from: usize) -> Option<usize> {
    while let Some(block) = bytes.get(from..).and_then(<[u8]>::first_chunk::<64>)
        && is_clean(block)
    {
        from += 64;
    }
    loop {
        let Some(word) = bytes.get(from..from + 8) else {
            let tail = bytes.get(from..)?;
            return tail
                .iter()
                .position(|&b| ESCAPE[b as usize] != 0)
                .map(|p| from + p);
        };
        match escapes(word) {
            0 => from += 8,
            mask => return Some(from + (mask.trailing_zeros() / 8) as usize),
        }
    }
}

/// Whether no byte of `block` needs escaping. Each byte maps to zero exactly
/// when it is `"`, `\` or below 0x20, and the block's minimum is taken without
/// a branch, which the compiler does sixteen bytes at a time in vector
/// registers: about a third of the instructions of the word-at-a-time test.
fn is_clean(block: &[u8; 64]) -> bool {
    block.iter().fold(u8::MAX, |min, &b| {
        min.min(b ^ b'"').min(b ^ b'\\').min(b.saturating_sub(0x1f))
    }) != 0
}

/// The high bit of each of eight bytes that is `"`, `\` or below 0x20 (the
/// classic SWAR "has a byte equal to / less than" tests). A borrow can flag a
/// byte above a real match, never below one, so the lowest flagged byte is
/// always the first that needs escaping.
fn escapes(word: &[u8]) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut buf = [0u8; 8];
    buf.copy_from_slice(word);
    let x = u64::from_le_bytes(buf);
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero_byte(x ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(x ^ (ONES * u64::from(b'\\')));
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    quote | backslash | control
}

/// What each byte becomes after a backslash: 0 for none, `u` for `\u00XX`.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    /// A number, written by serde_json so that it reads the same.
    fn number<T: Serialize>(&mut self, n: T) -> Result<(), Error> {
        serde_json::to_writer(&mut *self.out, &n).map_err(|e| Error(e.to_string()))
    }
}

/// A sequence or map being written: whether the next item needs a comma.
pub struct Compound<'a, 'b> {
    w: &'a mut Writer<'b>,
    first: bool,
    /// A `RawValue`: its one field is written as it is.
    raw: bool,
    /// Close an enum variant's wrapping object too.
    variant: bool,
}

impl Compound<'_, '_> {
    fn comma(&mut self) {
        if !self.first {
            self.w.out.push(b',');
        }
        self.first = false;
    }

    fn close(self, bracket: u8) {
        self.w.out.push(bracket);
        if self.variant {
            self.w.out.push(b'}');
        }
    }
}

impl<'a, 'b> ser::Serializer for &'a mut Writer<'b> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'b>;
    type SerializeTuple = Compound<'a, 'b>;
    type SerializeTupleStruct = Compound<'a, 'b>;
    type SerializeTupleVariant = Compound<'a, 'b>;
    type SerializeMap = Compound<'a, 'b>;
    type SerializeStruct = Compound<'a, 'b>;
    type SerializeStructVariant = Compound<'a, 'b>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // As serde_json: an array of numbers.
        ser::Serializer::collect_seq(self, v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        self.out.push(b'[');
        Ok(Compound {
            w: self,
            first: true,
            raw: false,
            variant: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Compound {
            w: self,
            first: true,
            raw: false,
            variant: true,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        self.out.push(b'{');
        Ok(Compound {
            w: self,
            first: true,
            raw: false,
            variant: false,
        })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        if name == RAW_VALUE_TOKEN {
            return Ok(Compound {
                w: self,
                first: true,
                raw: true,
                variant: false,
            });
        }
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":{");
        Ok(Compound {
            w: self,
            first: true,
            raw: false,
            variant: true,
        })
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        self.close(b']');
        Ok(())
    }
}

/// Tuples are written as arrays: each element as a sequence element.
macro_rules! tuple_as_seq {
    ($($trait:ident::$method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                ser::SerializeSeq::serialize_element(self, value)
            }
            fn end(self) -> Result<(), Error> {
                ser::SerializeSeq::end(self)
            }
        }
    )*};
}

tuple_as_seq!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(KeyWriter { out: self.w.out })?;
        self.w.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        self.close(b'}');
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if self.raw {
            return value.serialize(RawWriter { out: self.w.out });
        }
        ser::SerializeMap::serialize_entry(self, key, value)
    }
    fn end(self) -> Result<(), Error> {
        if !self.raw {
            self.close(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeMap::serialize_entry(self, key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.close(b'}');
        Ok(())
    }
}

/// Methods of a `Serializer` that refuse what they are given with `$error()`.
macro_rules! refuse {
    ($error:ident; $($name:ident($($arg:ident: $ty:ty),*) -> $ok:ty;)*) => {
        $(
            fn $name(self, $($arg: $ty),*) -> Result<$ok, Error> {
                $(let _ = $arg;)*
                Err($error())
            }
        )*
    };
}

/// A serializer that writes one scalar in place: its types, and the compound
/// shapes (neither a map key nor a raw value can be one) refused.
macro_rules! refuse_compounds {
    ($error:ident) => {
        type Ok = ();
        type Error = Error;
        type SerializeSeq = Impossible<(), Error>;
        type SerializeTuple = Impossible<(), Error>;
        type SerializeTupleStruct = Impossible<(), Error>;
        type SerializeTupleVariant = Impossible<(), Error>;
        type SerializeMap = Impossible<(), Error>;
        type SerializeStruct = Impossible<(), Error>;
        type SerializeStructVariant = Impossible<(), Error>;

        refuse! { $error;
            serialize_seq(len: Option<usize>) -> Self::SerializeSeq;
            serialize_tuple(len: usize) -> Self::SerializeTuple;
            serialize_tuple_struct(name: &'static str, len: usize) -> Self::SerializeTupleStruct;
            serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Self::SerializeTupleVariant;
            serialize_map(len: Option<usize>) -> Self::SerializeMap;
            serialize_struct(name: &'static str, len: usize) -> Self::SerializeStruct;
            serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Self::SerializeStructVariant;
        }
        fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
            Err($error())
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _value: &T,
        ) -> Result<(), Error> {
            Err($error())
        }
    };
}

/// Writes a map key: strings as they are, numbers and `bool`s quoted (as
/// serde_json does); anything else is an error.
struct KeyWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl KeyWriter<'_> {
    fn quoted<T: Display>(self, v: T) -> Result<(), Error> {
        write_str(self.out, &v.to_string());
        Ok(())
    }

    /// A finite float, quoted as serde_json writes it.
    fn float<T: Serialize>(self, v: T, finite: bool) -> Result<(), Error> {
        if !finite {
            return Err(Error("float key must be finite".to_owned()));
        }
        self.out.push(b'"');
        serde_json::to_writer(&mut *self.out, &v).map_err(|e| Error(e.to_string()))?;
        self.out.push(b'"');
        Ok(())
    }
}

fn key_error() -> Error {
    Error("key must be a string".to_owned())
}

impl ser::Serializer for KeyWriter<'_> {
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(v, v.is_finite())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v, v.is_finite())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    refuse! { key_error;
        serialize_bytes(v: &[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(name: &'static str) -> ();
    }
    refuse_compounds!(key_error);
}

/// Writes the text of a `RawValue` as it is. serde_json hands it over as a
/// string; anything else means serde_json changed how it serialises raw values.
struct RawWriter<'a> {
    out: &'a mut Vec<u8>,
}

fn raw_error() -> Error {
    Error("a raw JSON value must be given as text".to_owned())
}

impl ser::Serializer for RawWriter<'_> {
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.out.extend_from_slice(v.as_bytes());
        Ok(())
    }
    refuse! { raw_error;
        serialize_bool(v: bool) -> ();
        serialize_i8(v: i8) -> ();
        serialize_i16(v: i16) -> ();
        serialize_i32(v: i32) -> ();
        serialize_i64(v: i64) -> ();
        serialize_u8(v: u8) -> ();
        serialize_u16(v: u16) -> ();
        serialize_u32(v: u32) -> ();
        serialize_u64(v: u64) -> ();
        serialize_f32(v: f32) -> ();
        serialize_f64(v: f64) -> ();
        serialize_char(v: char) -> ();
        serialize_bytes(v: &[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(name: &'static str) -> ();
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> ();
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(raw_error())
    }
    refuse_compounds!(raw_error);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::RawJson;
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) {
        let ours = to_string(value).unwrap();
        let theirs = serde_json::to_string(value).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn escapes_every_special_byte_like_serde_json() {
        let mut all = String::new();
        for b in 0u8..0x80 {
            all.push(char::from(b));
        }
        all.push_str("é—😀 \u{7f}\u{2028}");
        same_as_serde_json(&all);
        // Every position of a special byte inside and across 8-byte words and
        // 64-byte blocks.
        for len in (0..20).chain([63, 64, 65, 71, 72, 127, 128, 129, 200]) {
            for at in 0..len {
                for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
                    let mut s: String = "abcdefghijklmnopqrstuvwxyz"
                        .chars()
                        .cycle()
                        .take(len)
                        .collect();
                    s.replace_range(at..=at, special.encode_utf8(&mut [0; 4]));
                    same_as_serde_json(&s);
                }
            }
        }
    }

    #[test]
    fn every_pair_of_ascii_bytes_escapes_like_serde_json() {
        // A byte that needs escaping next to any other, at every offset in a
        // word and across a block's end: a SWAR borrow from one must not hide
        // or invent the other.
        for first in 0u8..0x80 {
            for second in 0u8..0x80 {
                for at in [0, 3, 6, 7, 30, 31, 62, 63, 64] {
                    let mut s = "0123456789abcdefghijklmnopqrstuvwxyz-".repeat(2) + "é";
                    s.replace_range(at..at + 2, "");
                    s.insert(at, char::from(second));
                    s.insert(at, char::from(first));
                    same_as_serde_json(s.as_str());
                }
            }
        }
    }

    #[test]
    fn writes_every_shape_like_serde_json() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct S<'a> {
            text: &'a str,
            count: u64,
            ratio: f64,
            missing: Option<u8>,
            flag: bool,
            list: Vec<i32>,
            tuple: (i8, &'a str),
            map: BTreeMap<u32, &'a str>,
            bools: BTreeMap<bool, char>,
            e: Vec<E>,
            unit: (),
            bytes: &'a [u8],
            #[serde(flatten)]
            flat: BTreeMap<String, Value>,
        }
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, u8),
            Struct { a: u8 },
        }
        same_as_serde_json(&S {
            text: "hi \"there\"\n",
            count: u64::MAX,
            ratio: -1.5e-7,
            missing: None,
            flag: true,
            list: vec![],
            tuple: (-3, "t"),
            map: [(1, "a"), (20, "b")].into_iter().collect(),
            bools: [(true, 'x')].into_iter().collect(),
            e: vec![E::Unit, E::New(1), E::Tuple(1, 2), E::Struct { a: 3 }],
            unit: (),
            bytes: b"ab",
            flat: [("extra".to_owned(), json!({"n": null, "f": 0.1}))]
                .into_iter()
                .collect(),
        });
        same_as_serde_json(&f64::NAN);
        same_as_serde_json(&json!([1, -1, 1.0, 1e300, "x", {}, []]));
    }

    #[test]
    fn raw_values_are_written_as_they_are() {
        let raw: RawJson = serde_json::from_str(r#"{ "a" : [1, 2] }"#).unwrap();
        #[derive(Serialize)]
        struct T {
            schema: RawJson,
            boxed: Box<serde_json::value::RawValue>,
            null: RawJson,
        }
        let t = T {
            schema: raw,
            boxed: serde_json::value::to_raw_value(&json!("s")).unwrap(),
            null: RawJson::from(Value::Null),
        };
        assert_eq!(
            to_string(&t).unwrap(),
            r#"{"schema":{ "a" : [1, 2] },"boxed":"s","null":null}"#
        );
        same_as_serde_json(&t);
    }

    #[test]
    fn a_key_that_is_not_a_string_is_an_error() {
        let map: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
        assert!(to_string(&map).is_err());
        assert!(serde_json::to_string(&map).is_err());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            "[\"\\\\\\n\\t\\u{0}-\\u{1f}a-z]{0,40}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_is_written_as_serde_json_writes_it(value in arb_json()) {
            prop_assert_eq!(to_string(&value).unwrap(), serde_json::to_string(&value).unwrap());
        }
    }
}
