//! Tests of the COPY FROM decoder and the COPY TO encoder across formats and chunkings.

use sql::engine::{Column, CopyFormat, CopyOptions};
use sql::SqlType;
use storage::types::Value;

use super::encode::CopyEncoder;
use super::*;

fn decode_all(
    options: &CopyOptions,
    columns: usize,
    chunks: &[&[u8]],
) -> Result<Vec<RawRow>, CopyDataError> {
    let mut decoder = CopyDecoder::new(options, columns).unwrap();
    let mut rows = Vec::new();
    let mut raw = RawRows::default();
    for chunk in chunks {
        raw.clear();
        let fed = decoder.feed(chunk, &mut raw);
        rows.extend(raw.iter().map(|r| r.to_owned_row()));
        fed?;
    }
    raw.clear();
    let fed = decoder.finish(&mut raw);
    rows.extend(raw.iter().map(|r| r.to_owned_row()));
    fed?;
    Ok(rows)
}

/// Decodes `data` fed one byte at a time and all at once; both must agree.
fn decode_every_way(
    options: &CopyOptions,
    columns: usize,
    data: &[u8],
) -> Result<Vec<RawRow>, CopyDataError> {
    let whole = decode_all(options, columns, &[data]);
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    let piecewise = decode_all(options, columns, &bytes);
    assert_eq!(whole, piecewise, "chunking changed the result");
    whole
}

fn fields(row: &RawRow) -> Vec<Option<&str>> {
    row.fields
        .iter()
        .map(|f| f.as_deref().map(|b| std::str::from_utf8(b).unwrap()))
        .collect()
}

#[test]
fn text_rows_nulls_escapes_and_end_marker() {
    let options = CopyOptions::defaults(CopyFormat::Text);
    let data = b"1\tone\n2\t\\N\n3\ttab\\there\\nnewline\r\n4\t\\\\N\n\\.\nignored\tjunk\n";
    let rows = decode_every_way(&options, 2, data).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(fields(&rows[0]), vec![Some("1"), Some("one")]);
    assert_eq!(fields(&rows[1]), vec![Some("2"), None]);
    assert_eq!(
        fields(&rows[2]),
        vec![Some("3"), Some("tab\there\nnewline")]
    );
    // `\\N` is a backslash and N, not NULL.
    assert_eq!(fields(&rows[3]), vec![Some("4"), Some("\\N")]);
    assert_eq!(rows[3].line, 4);
}

#[test]
fn text_last_line_without_newline_and_header() {
    let mut options = CopyOptions::defaults(CopyFormat::Text);
    options.header = true;
    let rows = decode_every_way(&options, 2, b"a\tb\n1\t2\n3\t4").unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(fields(&rows[1]), vec![Some("3"), Some("4")]);
    assert_eq!(rows[1].line, 3);
}

#[test]
fn text_field_count_errors_name_the_line() {
    let options = CopyOptions::defaults(CopyFormat::Text);
    let error = decode_every_way(&options, 2, b"1\t2\n1\t2\t3\n").unwrap_err();
    assert_eq!(error.error.code, "22P04");
    assert_eq!(error.error.message, "extra data after last expected column");
    assert_eq!(error.line, 2);
    assert_eq!(error.excerpt.as_deref(), Some("1\t2\t3"));
    let error = decode_every_way(&options, 2, b"1\n").unwrap_err();
    assert_eq!(error.error.message, "missing data for column #2");
}

#[test]
fn text_custom_delimiter_and_null() {
    let mut options = CopyOptions::defaults(CopyFormat::Text);
    options.delimiter = '|';
    options.null = "NULL".into();
    let rows = decode_every_way(&options, 3, b"a\\|b|NULL|\n").unwrap();
    assert_eq!(fields(&rows[0]), vec![Some("a|b"), None, Some("")]);
}

#[test]
fn csv_quotes_multiline_fields_and_nulls() {
    let options = CopyOptions::defaults(CopyFormat::Csv);
    let data = b"1,\"a,b\",\n2,\"multi\nline \"\"quoted\"\"\",\"\"\r\n3,plain,x\n";
    let rows = decode_every_way(&options, 3, data).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(fields(&rows[0]), vec![Some("1"), Some("a,b"), None]);
    assert_eq!(
        fields(&rows[1]),
        vec![Some("2"), Some("multi\nline \"quoted\""), Some("")]
    );
    assert_eq!(rows[2].line, 3);
}

#[test]
fn csv_header_force_not_null_and_force_null() {
    let mut options = CopyOptions::defaults(CopyFormat::Csv);
    options.header = true;
    options.force_not_null = vec![0];
    options.force_null = vec![1];
    let rows = decode_every_way(&options, 2, b"a,b\n,\"\"\n").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(fields(&rows[0]), vec![Some(""), None]);
}

#[test]
fn csv_custom_null_and_escape() {
    let mut options = CopyOptions::defaults(CopyFormat::Csv);
    options.null = "NA".into();
    options.escape = '\\';
    options.delimiter = ';';
    let rows = decode_every_way(&options, 3, b"NA;\"NA\";\"x\\\"y\"\n").unwrap();
    assert_eq!(fields(&rows[0]), vec![None, Some("NA"), Some("x\"y")]);
}

#[test]
fn csv_unterminated_quote_is_an_error_at_the_end() {
    let options = CopyOptions::defaults(CopyFormat::Csv);
    let error = decode_every_way(&options, 2, b"1,ok\n2,\"open\n").unwrap_err();
    assert_eq!(error.error.message, "unterminated CSV quoted field");
    assert_eq!(error.line, 2);
}

#[test]
fn csv_end_marker_stops_reading() {
    let options = CopyOptions::defaults(CopyFormat::Csv);
    let rows = decode_every_way(&options, 1, b"a\n\\.\nb\n").unwrap();
    assert_eq!(rows.len(), 1);
    // A quoted \. is data.
    let rows = decode_every_way(&options, 1, b"\"\\.\"\nb\n").unwrap();
    assert_eq!(rows.len(), 2);
}

fn binary_stream(tuples: &[Vec<Option<&[u8]>>]) -> Vec<u8> {
    let mut out = binary::header();
    for tuple in tuples {
        out.extend_from_slice(&(tuple.len() as i16).to_be_bytes());
        for field in tuple {
            match field {
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(bytes) => {
                    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                    out.extend_from_slice(bytes);
                }
            }
        }
    }
    out.extend_from_slice(&binary::trailer());
    out
}

#[test]
fn binary_tuples_and_trailer() {
    let options = CopyOptions::defaults(CopyFormat::Binary);
    let data = binary_stream(&[
        vec![Some(&[0, 0, 0, 1][..]), Some(b"x")],
        vec![Some(&[0, 0, 0, 2][..]), None],
    ]);
    let rows = decode_every_way(&options, 2, &data).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].fields,
        vec![Some(vec![0, 0, 0, 1]), Some(b"x".to_vec())]
    );
    assert_eq!(rows[1].fields, vec![Some(vec![0, 0, 0, 2]), None]);
    // Without the trailer the stream is cut short.
    let error = decode_every_way(&options, 2, &data[..data.len() - 2]).unwrap_err();
    assert_eq!(error.error.message, "unexpected EOF in COPY data");
    // Wrong field count.
    let error = decode_every_way(&options, 3, &data).unwrap_err();
    assert_eq!(error.error.message, "row field count is 2, expected 3");
    // Data after the trailer.
    let mut extra = data.clone();
    extra.push(0);
    assert!(decode_every_way(&options, 2, &extra).is_err());
}

fn column(name: &str, sql_type: SqlType) -> Column {
    Column {
        name: name.into(),
        table_oid: 0,
        column_number: 0,
        sql_type,
    }
}

fn plain_text(value: &Value, _: &SqlType) -> String {
    match value {
        Value::Int4(x) => x.to_string(),
        Value::Text(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn encode_rows(options: &CopyOptions, columns: &[Column], rows: &[Vec<Value>]) -> Vec<u8> {
    let encoder = CopyEncoder::new(options, columns.len());
    let mut out = encoder.prologue(columns).unwrap_or_default();
    for row in rows {
        encoder.row(row, columns, &plain_text, &mut out).unwrap();
    }
    out.extend(encoder.epilogue().unwrap_or_default());
    out
}

#[test]
fn encoded_rows_decode_back_in_every_format() {
    let columns = vec![column("id", SqlType::Int4), column("note", SqlType::Text)];
    let rows = vec![
        vec![
            Value::Int4(1),
            Value::Text("tab\t, \"quote\"\nline \\ back".into()),
        ],
        vec![Value::Int4(2), Value::Null],
        vec![Value::Int4(3), Value::Text(String::new())],
    ];
    for format in [CopyFormat::Text, CopyFormat::Csv, CopyFormat::Binary] {
        let mut options = CopyOptions::defaults(format);
        options.header = format != CopyFormat::Binary;
        let data = encode_rows(&options, &columns, &rows);
        let decoded = decode_every_way(&options, 2, &data).unwrap();
        assert_eq!(decoded.len(), 3, "{format:?}");
        if format != CopyFormat::Binary {
            assert_eq!(
                fields(&decoded[0])[1],
                Some("tab\t, \"quote\"\nline \\ back")
            );
            assert_eq!(fields(&decoded[1])[1], None);
            assert_eq!(fields(&decoded[2])[1], Some(""));
        } else {
            assert_eq!(decoded[1].fields[1], None);
            assert_eq!(decoded[2].fields[1], Some(Vec::new()));
        }
    }
}

#[test]
fn csv_output_matches_postgres() {
    let columns = vec![column("a", SqlType::Int4), column("b", SqlType::Text)];
    let mut options = CopyOptions::defaults(CopyFormat::Csv);
    options.header = true;
    let rows = vec![
        vec![Value::Int4(1), Value::Text("x,y".into())],
        vec![Value::Int4(2), Value::Text(String::new())],
        vec![Value::Null, Value::Null],
    ];
    let out = encode_rows(&options, &columns, &rows);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "a,b\n1,\"x,y\"\n2,\"\"\n,\n"
    );
    options.force_quote = vec![0];
    options.header = false;
    let out = encode_rows(&options, &columns, &rows[..1]);
    assert_eq!(String::from_utf8(out).unwrap(), "\"1\",\"x,y\"\n");
}

#[test]
fn text_output_matches_postgres() {
    let columns = vec![column("a", SqlType::Int4), column("b", SqlType::Text)];
    let options = CopyOptions::defaults(CopyFormat::Text);
    let rows = vec![
        vec![Value::Int4(1), Value::Text("a\tb\\c\nd".into())],
        vec![Value::Null, Value::Null],
    ];
    let out = encode_rows(&options, &columns, &rows);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "1\ta\\tb\\\\c\\nd\n\\N\t\\N\n"
    );
}

#[test]
fn long_context_excerpts_are_cut_at_a_character_boundary() {
    let long = "é".repeat(400);
    let cut = excerpt(long.as_bytes());
    assert!(cut.ends_with("..."));
    assert!(cut.len() <= MAX_CONTEXT_BYTES + 3);
}
