//! COPY's text format: one row per line, fields separated by the delimiter (tab by default),
//! `\N` for NULL, and backslash escapes: `\b \f \n \r \t \v`, `\\`, `\` before the delimiter,
//! `\ooo` (1–3 octal digits), `\xhh` (1–2 hex digits); a backslash before any other character
//! stands for that character (so a backslash and a real newline is a newline in the data). A
//! line holding only `\.` ends the data. NULL is recognised on the raw field, before escapes
//! are processed, as PostgreSQL does.

/// Finds the end of the line that starts at `start`, scanning from `scan_from` (bytes before
/// it were already scanned and hold no line end). Returns the index of the `\n`, or the index
/// to resume from when more data is needed.
pub fn find_line_end(data: &[u8], scan_from: usize) -> Result<usize, usize> {
    let mut i = scan_from;
    while i < data.len() {
        match data[i] {
            b'\n' => return Ok(i),
            b'\\' => {
                if i + 1 >= data.len() {
                    return Err(i);
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    Err(i)
}

/// Whether a line (without its line end) is the end-of-data marker `\.`.
pub fn is_end_marker(line: &[u8]) -> bool {
    line == b"\\."
}

/// The raw fields of a line (without `\n` / `\r\n`), escapes still in place, split on the
/// delimiters that no backslash escapes.
pub struct RawFields<'a> {
    line: &'a [u8],
    delimiter: u8,
    /// Where the next field starts; past the end once the last field was returned.
    start: usize,
}

impl<'a> RawFields<'a> {
    pub fn new(line: &'a [u8], delimiter: u8) -> RawFields<'a> {
        RawFields {
            line,
            delimiter,
            start: 0,
        }
    }
}

impl<'a> Iterator for RawFields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let line = self.line;
        if self.start > line.len() {
            return None;
        }
        let start = self.start;
        let mut i = start;
        while i < line.len() {
            let byte = line[i];
            if byte == b'\\' {
                i += 2;
                continue;
            }
            if byte == self.delimiter {
                self.start = i + 1;
                return Some(&line[start..i]);
            }
            i += 1;
        }
        self.start = line.len() + 1;
        Some(&line[start.min(line.len())..])
    }
}

/// Splits a line into raw fields (see [`RawFields`]).
#[cfg(test)]
pub fn split_raw_fields(line: &[u8], delimiter: u8) -> Vec<&[u8]> {
    RawFields::new(line, delimiter).collect()
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Processes the backslash escapes of one raw field.
#[cfg(test)]
pub fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    unescape_into(raw, &mut out);
    out
}

/// Appends one raw field to `out` with its backslash escapes processed.
pub fn unescape_into(raw: &[u8], out: &mut Vec<u8>) {
    if !raw.contains(&b'\\') {
        out.extend_from_slice(raw);
        return;
    }
    let mut i = 0;
    while i < raw.len() {
        let byte = raw[i];
        i += 1;
        if byte != b'\\' || i >= raw.len() {
            out.push(byte);
            continue;
        }
        let escaped = raw[i];
        i += 1;
        match escaped {
            b'0'..=b'7' => {
                let mut value = u32::from(escaped - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            b'x' => match raw.get(i).copied().and_then(hex_value) {
                Some(high) => {
                    i += 1;
                    let mut value = high;
                    if let Some(low) = raw.get(i).copied().and_then(hex_value) {
                        value = value * 16 + low;
                        i += 1;
                    }
                    out.push(value);
                }
                None => out.push(b'x'),
            },
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            other => out.push(other),
        }
    }
}

/// Appends `value` escaped for the text format (PostgreSQL's `CopyAttributeOutText`).
pub fn escape_into(value: &str, delimiter: u8, out: &mut Vec<u8>) {
    for &byte in value.as_bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x0b => out.extend_from_slice(b"\\v"),
            _ if byte == delimiter => {
                out.push(b'\\');
                out.push(byte);
            }
            _ => out.push(byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_line_ends_across_escaped_newlines() {
        assert_eq!(find_line_end(b"a\tb\nc", 0), Ok(3));
        assert_eq!(find_line_end(b"a\\\nb\n", 0), Ok(4));
        assert_eq!(find_line_end(b"abc", 0), Err(3));
        // A trailing backslash waits for the byte it escapes.
        assert_eq!(find_line_end(b"ab\\", 0), Err(2));
    }

    #[test]
    fn splits_on_unescaped_delimiters() {
        assert_eq!(
            split_raw_fields(b"1\ta\\tb\t\\N", b'\t'),
            vec![&b"1"[..], b"a\\tb", b"\\N"]
        );
        assert_eq!(split_raw_fields(b"", b'\t'), vec![&b""[..]]);
        assert_eq!(
            split_raw_fields(b"a|b\\|c|", b'|'),
            vec![&b"a"[..], b"b\\|c", b""]
        );
    }

    #[test]
    fn unescapes_like_postgres() {
        assert_eq!(unescape(b"a\\tb\\nc\\\\d"), b"a\tb\nc\\d");
        assert_eq!(unescape(b"\\101\\x41\\x4"), b"AA\x04");
        assert_eq!(unescape(b"\\q\\."), b"q.");
        assert_eq!(unescape(b"\\xg"), b"xg");
        assert_eq!(unescape(b"end\\"), b"end\\");
        assert_eq!(unescape(b"\\0"), b"\0");
        assert_eq!(unescape(b"\\777"), b"\xff");
    }

    #[test]
    fn escapes_like_postgres() {
        let mut out = Vec::new();
        escape_into("a\tb\nc\\d\re", b'\t', &mut out);
        assert_eq!(out, b"a\\tb\\nc\\\\d\\re");
        let mut out = Vec::new();
        escape_into("a,b\tc", b',', &mut out);
        assert_eq!(out, b"a\\,b\\tc");
    }
}
