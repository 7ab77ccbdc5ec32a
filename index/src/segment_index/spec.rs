//! What `CREATE INDEX ... USING <method> (<col> <opclass>) WITH (<options>)` asked for, and
//! the checks pgvector applies to it.
//!
//! Validation happens here, at build time, so that every index file on disk records a spec
//! that the HNSW and IVF builders and readers can trust: known option names only, each at
//! most once, values parsed and within pgvector's bounds, a metric the method supports and a
//! dimension between 1 and [`MAX_VECTOR_DIMENSIONS`]. Option names are compared as given; the
//! SQL layer lower-cases them like PostgreSQL does for reloptions.

use super::IndexError;
use crate::distance::{Metric, MAX_VECTOR_DIMENSIONS};

/// Most options a spec may carry (pgvector has at most two per method; the rest is headroom).
pub const MAX_INDEX_OPTIONS: usize = 16;
/// Longest option name or value, in bytes.
pub const MAX_OPTION_TEXT_BYTES: usize = 256;

/// The access method `CREATE INDEX ... USING` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexMethod {
    Hnsw,
    IvfFlat,
}

impl IndexMethod {
    /// The name used in `USING`.
    pub fn name(self) -> &'static str {
        match self {
            IndexMethod::Hnsw => "hnsw",
            IndexMethod::IvfFlat => "ivfflat",
        }
    }

    /// The method called `name` in `USING`, if any.
    pub fn from_name(name: &str) -> Option<IndexMethod> {
        [IndexMethod::Hnsw, IndexMethod::IvfFlat]
            .into_iter()
            .find(|method| method.name() == name)
    }

    /// The `WITH (...)` options this method accepts, with pgvector's inclusive bounds.
    fn integer_options(self) -> &'static [IntegerOption] {
        match self {
            IndexMethod::Hnsw => &[
                IntegerOption {
                    name: "m",
                    min: 2,
                    max: 100,
                },
                IntegerOption {
                    name: "ef_construction",
                    min: 4,
                    max: 1000,
                },
            ],
            IndexMethod::IvfFlat => &[IntegerOption {
                name: "lists",
                min: 1,
                max: 32768,
            }],
        }
    }
}

struct IntegerOption {
    name: &'static str,
    min: i64,
    max: i64,
}

/// A vector index to build for one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentIndexSpec {
    pub method: IndexMethod,
    pub metric: Metric,
    pub dim: usize,
    /// `WITH (...)` options as written, e.g. `("m", "16")`.
    pub options: Vec<(String, String)>,
}

impl SegmentIndexSpec {
    /// Checks the spec as pgvector's `CREATE INDEX` would, with pgvector's messages.
    pub fn validate(&self) -> Result<(), IndexError> {
        let invalid = |message: String| Err(IndexError::InvalidSpec(message));
        if self.dim == 0 || self.dim > MAX_VECTOR_DIMENSIONS {
            return invalid(format!(
                "vector index dimension {} is outside 1..={MAX_VECTOR_DIMENSIONS}",
                self.dim
            ));
        }
        if self.method == IndexMethod::IvfFlat && self.metric == Metric::L1 {
            return invalid(format!(
                "operator class \"{}\" does not exist for access method \"ivfflat\"",
                self.metric.operator_class()
            ));
        }
        if self.options.len() > MAX_INDEX_OPTIONS {
            return invalid(format!(
                "{} index options given, at most {MAX_INDEX_OPTIONS} are allowed",
                self.options.len()
            ));
        }
        for (position, (name, value)) in self.options.iter().enumerate() {
            if name.len() > MAX_OPTION_TEXT_BYTES || value.len() > MAX_OPTION_TEXT_BYTES {
                return invalid(format!(
                    "index option name or value longer than {MAX_OPTION_TEXT_BYTES} bytes"
                ));
            }
            if self.options[..position]
                .iter()
                .any(|(earlier, _)| earlier == name)
            {
                return invalid(format!("parameter \"{name}\" specified more than once"));
            }
            let Some(option) = self
                .method
                .integer_options()
                .iter()
                .find(|option| option.name == name)
            else {
                return invalid(format!("unrecognized parameter \"{name}\""));
            };
            let parsed = parse_integer_option(option, value)?;
            debug_assert!((option.min..=option.max).contains(&parsed));
        }
        if self.method == IndexMethod::Hnsw {
            let m = self.integer_option("m").unwrap_or(DEFAULT_HNSW_M);
            let ef_construction = self
                .integer_option("ef_construction")
                .unwrap_or(DEFAULT_HNSW_EF_CONSTRUCTION);
            if ef_construction < 2 * m {
                return invalid("ef_construction must be greater than or equal to 2 * m".into());
            }
        }
        Ok(())
    }

    /// The value of integer option `name`, if given and valid.
    pub fn integer_option(&self, name: &str) -> Option<i64> {
        let (_, value) = self.options.iter().find(|(key, _)| key == name)?;
        value.trim().parse().ok()
    }
}

/// pgvector's default `m` for HNSW.
pub const DEFAULT_HNSW_M: i64 = 16;
/// pgvector's default `ef_construction` for HNSW.
pub const DEFAULT_HNSW_EF_CONSTRUCTION: i64 = 64;

fn parse_integer_option(option: &IntegerOption, value: &str) -> Result<i64, IndexError> {
    let parsed: i64 = value.trim().parse().map_err(|_| {
        IndexError::InvalidSpec(format!(
            "invalid value for integer option \"{}\": {value}",
            option.name
        ))
    })?;
    if !(option.min..=option.max).contains(&parsed) {
        return Err(IndexError::InvalidSpec(format!(
            "value {parsed} out of bounds for option \"{}\": valid values are between \"{}\" and \"{}\"",
            option.name, option.min, option.max
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: IndexMethod, metric: Metric, options: &[(&str, &str)]) -> SegmentIndexSpec {
        SegmentIndexSpec {
            method,
            metric,
            dim: 3,
            options: options
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        }
    }

    fn message(spec: &SegmentIndexSpec) -> String {
        match spec.validate() {
            Err(IndexError::InvalidSpec(message)) => message,
            other => format!("unexpected: {other:?}"),
        }
    }

    #[test]
    fn pgvector_defaults_and_bounds_are_accepted() {
        let hnsw = [("m", "16"), ("ef_construction", "64")];
        assert!(spec(IndexMethod::Hnsw, Metric::Cosine, &hnsw)
            .validate()
            .is_ok());
        assert!(spec(IndexMethod::Hnsw, Metric::L1, &[]).validate().is_ok());
        let ivf = [("lists", "100")];
        assert!(spec(IndexMethod::IvfFlat, Metric::L2, &ivf)
            .validate()
            .is_ok());
        let edges = [("m", "2"), ("ef_construction", "1000")];
        assert!(spec(IndexMethod::Hnsw, Metric::L2, &edges)
            .validate()
            .is_ok());
    }

    #[test]
    fn bad_options_are_rejected_with_pgvector_messages() {
        /// (method, options, part of the expected message)
        type Case = (
            IndexMethod,
            &'static [(&'static str, &'static str)],
            &'static str,
        );
        let cases: &[Case] = &[
            (
                IndexMethod::Hnsw,
                &[("m", "1")],
                "value 1 out of bounds for option \"m\"",
            ),
            (
                IndexMethod::Hnsw,
                &[("m", "x")],
                "invalid value for integer option \"m\"",
            ),
            (
                IndexMethod::Hnsw,
                &[("lists", "5")],
                "unrecognized parameter \"lists\"",
            ),
            (
                IndexMethod::IvfFlat,
                &[("lists", "0")],
                "out of bounds for option \"lists\"",
            ),
            (
                IndexMethod::IvfFlat,
                &[("lists", "5"), ("lists", "6")],
                "parameter \"lists\" specified more than once",
            ),
            (
                IndexMethod::Hnsw,
                &[("m", "40"), ("ef_construction", "64")],
                "ef_construction must be greater than or equal to 2 * m",
            ),
        ];
        for (method, options, expected) in cases {
            let found = message(&spec(*method, Metric::L2, options));
            assert!(found.contains(expected), "{found:?} lacks {expected:?}");
        }
    }

    #[test]
    fn ivfflat_has_no_l1_operator_class_and_dimensions_are_bounded() {
        let l1 = spec(IndexMethod::IvfFlat, Metric::L1, &[]);
        assert!(message(&l1).contains("vector_l1_ops"));
        let mut zero_dim = spec(IndexMethod::Hnsw, Metric::L2, &[]);
        zero_dim.dim = 0;
        assert!(zero_dim.validate().is_err());
        zero_dim.dim = MAX_VECTOR_DIMENSIONS + 1;
        assert!(zero_dim.validate().is_err());
    }

    #[test]
    fn method_names_round_trip() {
        for method in [IndexMethod::Hnsw, IndexMethod::IvfFlat] {
            assert_eq!(IndexMethod::from_name(method.name()), Some(method));
        }
        assert_eq!(IndexMethod::from_name("btree"), None);
    }
}
