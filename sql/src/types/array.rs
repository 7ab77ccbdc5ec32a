//! Arrays: PostgreSQL's `array_in` and `array_out` for arrays of every other type.
//!
//! Text form: `{1,2,NULL}`, nested braces for more dimensions (`{{1,2},{3,4}}`, rectangular,
//! at most [`MAX_DIMENSIONS`]), and an optional `[lower:upper]...=` prefix for lower bounds
//! other than 1. An element is quoted (`"a b"`) or bare; a backslash escapes the next character
//! in either; bare elements lose surrounding whitespace, and a bare `NULL` (any case) is a null
//! element. Each element's text goes through its own type's input with the column's modifier,
//! so `varchar(3)[]` checks every element.
//!
//! Output quotes an element when it is empty, spells `NULL`, or contains `"`, `\`, `{`, `}`,
//! `,` or whitespace, escaping `"` and `\` inside the quotes.

use storage::types::{Array, ArrayDim, DataType, Value};

use super::error::{sqlstate, TypeError};
use super::session::SessionFormat;

/// PostgreSQL's `MAXDIM`.
pub(crate) const MAX_DIMENSIONS: usize = 6;
/// PostgreSQL's `MaxArraySize`: most elements an array may hold.
const MAX_ARRAY_ELEMENTS: i64 = 134_217_727;

fn is_array_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// One brace level or element as written.
enum Item {
    Level(Vec<Item>),
    /// An element's text after quote and escape removal; `None` for `NULL`.
    Element(Option<String>),
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    /// Where error messages start quoting the input: PostgreSQL reports problems inside the
    /// braces with the text from the first `{` on, and others with the whole input.
    quoted_from: usize,
}

impl<'a> Reader<'a> {
    fn malformed(&self, detail: impl Into<String>) -> TypeError {
        TypeError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            format!(
                "malformed array literal: \"{}\"",
                &self.text[self.quoted_from..]
            ),
        )
        .with_detail(detail)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_array_space) {
            self.pos += 1;
        }
    }

    /// A brace level; the reader is at its `{`. `depth` counts the levels above.
    fn level(&mut self, depth: usize) -> Result<Item, TypeError> {
        debug_assert_eq!(self.peek(), Some(b'{'));
        if depth >= MAX_DIMENSIONS {
            return Err(TypeError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "number of array dimensions ({}) exceeds the maximum allowed ({MAX_DIMENSIONS})",
                    depth + 1
                ),
            ));
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            if depth > 0 {
                return Err(self.malformed("Unexpected \"}\" character."));
            }
            self.pos += 1;
            return Ok(Item::Level(items));
        }
        loop {
            self.skip_space();
            let item = match self.peek() {
                None => return Err(self.malformed("Unexpected end of input.")),
                Some(b'{') => {
                    if items.iter().any(|i| matches!(i, Item::Element(_))) {
                        return Err(self.malformed("Unexpected \"{\" character."));
                    }
                    self.level(depth + 1)?
                }
                Some(b'}') => return Err(self.malformed("Unexpected \"}\" character.")),
                Some(b',') => return Err(self.malformed("Unexpected \",\" character.")),
                Some(_) => {
                    if items.iter().any(|i| matches!(i, Item::Level(_))) {
                        return Err(self.malformed("Unexpected array element."));
                    }
                    self.element()?
                }
            };
            items.push(item);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Item::Level(items));
                }
                None => return Err(self.malformed("Unexpected end of input.")),
                Some(b'{') => return Err(self.malformed("Unexpected \"{\" character.")),
                Some(_) => return Err(self.malformed("Unexpected array element.")),
            }
        }
    }

    /// An element, quoted or bare; the reader is at its first character.
    fn element(&mut self) -> Result<Item, TypeError> {
        let mut bytes = Vec::new();
        if self.peek() == Some(b'"') {
            self.pos += 1;
            loop {
                match self.peek() {
                    None => return Err(self.malformed("Unexpected end of input.")),
                    Some(b'"') => {
                        self.pos += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let escaped = self
                            .s
                            .get(self.pos + 1)
                            .copied()
                            .ok_or_else(|| self.malformed("Unexpected end of input."))?;
                        bytes.push(escaped);
                        self.pos += 2;
                    }
                    Some(b) => {
                        bytes.push(b);
                        self.pos += 1;
                    }
                }
            }
            return Ok(Item::Element(Some(self.utf8(bytes)?)));
        }
        // Bare element: up to an unescaped delimiter or brace; trailing unescaped whitespace is
        // not part of it.
        let mut quoted_any = false;
        let mut keep = 0; // length up to the last escaped or non-space byte
        loop {
            match self.peek() {
                None => return Err(self.malformed("Unexpected end of input.")),
                Some(b',' | b'}') => break,
                Some(b'{') => return Err(self.malformed("Unexpected \"{\" character.")),
                Some(b'"') => return Err(self.malformed("Unexpected array element.")),
                Some(b'\\') => {
                    let escaped = self
                        .s
                        .get(self.pos + 1)
                        .copied()
                        .ok_or_else(|| self.malformed("Unexpected end of input."))?;
                    bytes.push(escaped);
                    keep = bytes.len();
                    quoted_any = true;
                    self.pos += 2;
                }
                Some(b) => {
                    bytes.push(b);
                    if !is_array_space(b) {
                        keep = bytes.len();
                    }
                    self.pos += 1;
                }
            }
        }
        bytes.truncate(keep);
        if !quoted_any && bytes.eq_ignore_ascii_case(b"NULL") {
            return Ok(Item::Element(None));
        }
        Ok(Item::Element(Some(self.utf8(bytes)?)))
    }

    fn utf8(&self, bytes: Vec<u8>) -> Result<String, TypeError> {
        // Escapes only drop backslashes, so a byte sequence cut from valid UTF-8 at ASCII
        // positions is valid UTF-8; an escaped lead byte keeps its continuation bytes.
        String::from_utf8(bytes).map_err(|_| self.malformed("Unexpected array element."))
    }
}

/// The dimensions of a parsed level, checking that sub-arrays match.
fn shape(item: &Item, reader: &Reader<'_>) -> Result<Vec<u32>, TypeError> {
    match item {
        Item::Element(_) => Ok(Vec::new()),
        Item::Level(children) => {
            let mut dims = vec![children.len() as u32];
            if let Some(first) = children.first() {
                let inner = shape(first, reader)?;
                for child in &children[1..] {
                    if shape(child, reader)? != inner {
                        return Err(reader.malformed(
                            "Multidimensional arrays must have sub-arrays with matching dimensions.",
                        ));
                    }
                }
                dims.extend(inner);
            }
            Ok(dims)
        }
    }
}

fn flatten(item: Item, out: &mut Vec<Option<String>>) {
    match item {
        Item::Element(e) => out.push(e),
        Item::Level(children) => children.into_iter().for_each(|c| flatten(c, out)),
    }
}

/// `array_in` for an array of `element_type`.
pub(crate) fn parse_array(
    text: &str,
    element_type: &DataType,
    session: &SessionFormat,
) -> Result<Array, TypeError> {
    let mut reader = Reader {
        s: text.as_bytes(),
        text,
        pos: 0,
        quoted_from: 0,
    };
    // Explicit dimensions: [m:n] or [n] items, whitespace allowed between them.
    let mut explicit: Vec<(i64, i64)> = Vec::new();
    loop {
        reader.skip_space();
        if reader.peek() != Some(b'[') {
            break;
        }
        reader.pos += 1;
        if explicit.len() >= MAX_DIMENSIONS {
            return Err(TypeError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "number of array dimensions ({}) exceeds the maximum allowed ({MAX_DIMENSIONS})",
                    explicit.len() + 1
                ),
            ));
        }
        let bound = |reader: &mut Reader<'_>, missing: &str| -> Result<i64, TypeError> {
            let start = reader.pos;
            while reader
                .peek()
                .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
            {
                reader.pos += 1;
            }
            if reader.pos == start {
                return Err(reader.malformed(missing.to_string()));
            }
            Ok(atoi(&text[start..reader.pos]))
        };
        let first = bound(
            &mut reader,
            "\"[\" must introduce explicitly-specified array dimensions.",
        )?;
        let (lower, upper) = if reader.peek() == Some(b':') {
            reader.pos += 1;
            (first, bound(&mut reader, "Missing array dimension value.")?)
        } else {
            (1, first)
        };
        if reader.peek() != Some(b']') {
            return Err(reader.malformed("Missing \"]\" after array dimensions."));
        }
        reader.pos += 1;
        if upper < lower {
            return Err(TypeError::new(
                sqlstate::ARRAY_SUBSCRIPT_ERROR,
                "upper bound cannot be less than lower bound",
            ));
        }
        explicit.push((lower, upper));
    }
    if !explicit.is_empty() {
        if reader.peek() != Some(b'=') {
            return Err(reader.malformed("Missing \"=\" after array dimensions."));
        }
        reader.pos += 1;
        reader.skip_space();
        if reader.peek() != Some(b'{') {
            return Err(reader.malformed("Array contents must start with \"{\"."));
        }
    } else if reader.peek() != Some(b'{') {
        return Err(reader.malformed("Array value must start with \"{\" or dimension information."));
    }
    reader.quoted_from = reader.pos;
    let top = reader.level(0)?;
    reader.skip_space();
    if reader.pos != reader.s.len() {
        return Err(reader.malformed("Junk after closing right brace."));
    }
    let mut lens = shape(&top, &reader)?;
    if lens == [0] {
        lens.clear();
    }
    if !explicit.is_empty() {
        let matches = explicit.len() == lens.len()
            && explicit
                .iter()
                .zip(&lens)
                .all(|((l, u), n)| u - l + 1 == *n as i64);
        if !matches {
            reader.quoted_from = 0;
            return Err(reader.malformed("Specified array dimensions do not match array contents."));
        }
    }
    let count: i64 = lens.iter().map(|n| *n as i64).product();
    if !lens.is_empty() && count > MAX_ARRAY_ELEMENTS {
        return Err(TypeError::new(
            sqlstate::PROGRAM_LIMIT_EXCEEDED,
            format!("array size exceeds the maximum allowed ({MAX_ARRAY_ELEMENTS})"),
        ));
    }
    let dims: Vec<ArrayDim> = lens
        .iter()
        .enumerate()
        .map(|(i, len)| ArrayDim {
            len: *len,
            lower: explicit.get(i).map_or(1, |(l, _)| *l as i32),
        })
        .collect();
    let mut texts = Vec::with_capacity(count.max(0) as usize);
    flatten(top, &mut texts);
    let mut elements = Vec::with_capacity(texts.len());
    for element in texts {
        elements.push(match element {
            None => Value::Null,
            Some(t) => super::parse_text(element_type, &t, session)?,
        });
    }
    Ok(Array { dims, elements })
}

/// C's `atoi` on a run of digits and signs (wrapping like glibc's `(int) strtol`).
fn atoi(text: &str) -> i64 {
    let (value, _) = super::datetime_fields::strtol(text);
    value.map(|v| v as i32 as i64).unwrap_or(-1)
}

/// `array_out`.
pub(crate) fn format_array(
    array: &Array,
    element_type: &DataType,
    session: &SessionFormat,
) -> String {
    if array.dims.is_empty() || array.elements.is_empty() {
        return "{}".into();
    }
    let mut out = String::new();
    if array.dims.iter().any(|d| d.lower != 1) {
        for d in &array.dims {
            let upper = d.lower as i64 + d.len as i64 - 1;
            out.push_str(&format!("[{}:{}]", d.lower, upper));
        }
        out.push('=');
    }
    let lens: Vec<usize> = array.dims.iter().map(|d| d.len as usize).collect();
    let mut next = 0;
    write_level(
        &mut out,
        &lens,
        &array.elements,
        &mut next,
        element_type,
        session,
    );
    out
}

fn write_level(
    out: &mut String,
    lens: &[usize],
    elements: &[Value],
    next: &mut usize,
    element_type: &DataType,
    session: &SessionFormat,
) {
    out.push('{');
    for i in 0..lens[0] {
        if i > 0 {
            out.push(',');
        }
        if lens.len() > 1 {
            write_level(out, &lens[1..], elements, next, element_type, session);
        } else {
            match elements.get(*next) {
                None | Some(Value::Null) => out.push_str("NULL"),
                Some(value) => {
                    write_element(out, &super::format_text(value, element_type, session))
                }
            }
            *next += 1;
        }
    }
    out.push('}');
}

fn write_element(out: &mut String, text: &str) {
    let needs_quotes = text.is_empty()
        || text.eq_ignore_ascii_case("NULL")
        || text
            .bytes()
            .any(|b| matches!(b, b'"' | b'\\' | b'{' | b'}' | b',') || is_array_space(b));
    if !needs_quotes {
        out.push_str(text);
        return;
    }
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
#[path = "array_tests.rs"]
mod tests;
