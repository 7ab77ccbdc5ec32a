//! NumPy `.npy` files (format version 1 and 2) of 2-d little-endian `<f4` / `<i4` arrays in C
//! order: what the data sets in `../shared/data` are stored as, and what the benchmarks hand
//! to the Python baselines. Nothing else of the format is supported.

use std::error::Error;
use std::io::Write;
use std::path::Path;

type NpyResult<T> = Result<T, Box<dyn Error>>;

/// A 2-d `.npy` array of `<f4` or `<i4` values: (rows, columns, raw little-endian words).
/// A 1-d array reads as one column.
pub fn read_npy(path: &Path) -> NpyResult<(usize, usize, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(format!("{} is not a .npy file", path.display()).into());
    }
    let (header_length, header_start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = bytes
        .get(header_start..header_start + header_length)
        .ok_or_else(|| format!("{}: truncated header", path.display()))?;
    let header = std::str::from_utf8(header)?;
    if !(header.contains("'<f4'") || header.contains("'<i4'"))
        || header.contains("'fortran_order': True")
    {
        return Err(format!("{}: unsupported array {header}", path.display()).into());
    }
    let shape_start = header.find("'shape': (").ok_or("no shape")? + "'shape': (".len();
    let shape_end = shape_start + header[shape_start..].find(')').ok_or("bad shape")?;
    let dims: Vec<usize> = header[shape_start..shape_end]
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let (rows, columns) = match dims.as_slice() {
        [rows, columns] => (*rows, *columns),
        [rows] => (*rows, 1),
        _ => return Err(format!("{}: shape {dims:?}", path.display()).into()),
    };
    let data = bytes[header_start + header_length..].to_vec();
    if data.len() != rows * columns * 4 {
        return Err(format!(
            "{}: {} data bytes for {rows}x{columns}",
            path.display(),
            data.len()
        )
        .into());
    }
    Ok((rows, columns, data))
}

/// Little-endian words as `f32`.
pub fn words_as_f32(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|word| f32::from_le_bytes([word[0], word[1], word[2], word[3]]))
        .collect()
}

/// Little-endian words as `u32`.
pub fn words_as_u32(data: &[u8]) -> Vec<u32> {
    data.chunks_exact(4)
        .map(|word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
        .collect()
}

/// Writes a 2-d `.npy` file (version 1) of `rows × columns` 4-byte words of type `descr`
/// (`<f4` or `<i4`), each already in little-endian order.
pub fn write_npy(
    path: &Path,
    descr: &str,
    rows: usize,
    columns: usize,
    words: &[[u8; 4]],
) -> NpyResult<()> {
    if words.len() != rows * columns {
        return Err(format!("{} words for a {rows}x{columns} array", words.len()).into());
    }
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(b"\x93NUMPY\x01\x00")?;
    file.write_all(&u16::try_from(header.len())?.to_le_bytes())?;
    file.write_all(header.as_bytes())?;
    for word in words {
        file.write_all(word)?;
    }
    file.flush()?;
    Ok(())
}

/// [`write_npy`] of `f32` values.
pub fn write_npy_f32(path: &Path, rows: usize, columns: usize, values: &[f32]) -> NpyResult<()> {
    let words: Vec<[u8; 4]> = values.iter().map(|value| value.to_le_bytes()).collect();
    write_npy(path, "<f4", rows, columns, &words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_arrays_read_back_with_their_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        write_npy_f32(&path, 2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5]).unwrap();
        let (rows, columns, data) = read_npy(&path).unwrap();
        assert_eq!((rows, columns), (2, 3));
        assert_eq!(words_as_f32(&data), vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        assert!(write_npy_f32(&path, 2, 2, &[1.0]).is_err());
        std::fs::write(&path, b"not numpy").unwrap();
        assert!(read_npy(&path).is_err());
    }
}
