//! COPY TO STDOUT: rows written in text, CSV or binary format, one CopyData message per row
//! (plus a header line or the binary file header before, and the binary trailer after), as
//! PostgreSQL sends them.

use sql::engine::{Column, CopyFormat, CopyOptions};
use sql::{SqlError, SqlType};
use storage::types::Value;

use super::{binary, csv, text};
use crate::types::binary as wire_binary;

/// Writes rows in one COPY format.
pub struct CopyEncoder {
    format: CopyFormat,
    delimiter: u8,
    quote: u8,
    escape: u8,
    null: String,
    header: bool,
    force_quote: Vec<bool>,
    single_column: bool,
}

fn ascii(c: char) -> u8 {
    if c.is_ascii() {
        c as u8
    } else {
        b'?'
    }
}

impl CopyEncoder {
    pub fn new(options: &CopyOptions, columns: usize) -> CopyEncoder {
        let mut force_quote = vec![false; columns];
        for &p in &options.force_quote {
            if let Some(flag) = force_quote.get_mut(p) {
                *flag = true;
            }
        }
        CopyEncoder {
            format: options.format,
            delimiter: ascii(options.delimiter),
            quote: ascii(options.quote),
            escape: ascii(options.escape),
            null: options.null.clone(),
            header: options.header,
            force_quote,
            single_column: columns == 1,
        }
    }

    pub fn is_binary(&self) -> bool {
        self.format == CopyFormat::Binary
    }

    fn csv_options(&self) -> (u8, u8, u8, &str) {
        (self.delimiter, self.quote, self.escape, &self.null)
    }

    /// What precedes the rows: the binary file header, or the header line (HEADER).
    pub fn prologue(&self, columns: &[Column]) -> Option<Vec<u8>> {
        match self.format {
            CopyFormat::Binary => Some(binary::header()),
            _ if !self.header => None,
            format => {
                let mut out = Vec::new();
                for (i, column) in columns.iter().enumerate() {
                    if i > 0 {
                        out.push(self.delimiter);
                    }
                    if format == CopyFormat::Csv {
                        csv::quote_into(
                            &column.name,
                            false,
                            self.single_column,
                            self.csv_options(),
                            &mut out,
                        );
                    } else {
                        text::escape_into(&column.name, self.delimiter, &mut out);
                    }
                }
                out.push(b'\n');
                Some(out)
            }
        }
    }

    /// What follows the rows: the binary trailer.
    pub fn epilogue(&self) -> Option<Vec<u8>> {
        self.is_binary().then(|| binary::trailer().to_vec())
    }

    /// Appends one row; `output_text` is the session's text output function.
    pub fn row(
        &self,
        row: &[Value],
        columns: &[Column],
        output_text: &dyn Fn(&Value, &SqlType) -> String,
        out: &mut Vec<u8>,
    ) -> Result<(), SqlError> {
        if self.is_binary() {
            out.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for (value, column) in row.iter().zip(columns) {
                if value.is_null() {
                    out.extend_from_slice(&(-1i32).to_be_bytes());
                    continue;
                }
                let at = out.len();
                out.extend_from_slice(&[0; 4]);
                wire_binary::encode(value, &column.sql_type, out)?;
                let length = (out.len() - at - 4) as i32;
                out[at..at + 4].copy_from_slice(&length.to_be_bytes());
            }
            return Ok(());
        }
        for (i, (value, column)) in row.iter().zip(columns).enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            if value.is_null() {
                out.extend_from_slice(self.null.as_bytes());
                continue;
            }
            let text_value = output_text(value, &column.sql_type);
            if self.format == CopyFormat::Csv {
                csv::quote_into(
                    &text_value,
                    self.force_quote[i],
                    self.single_column,
                    self.csv_options(),
                    out,
                );
            } else {
                text::escape_into(&text_value, self.delimiter, out);
            }
        }
        out.push(b'\n');
        Ok(())
    }
}
