//! Sequences: `nextval` is not transactional (a rolled-back transaction does not give its
//! values back), so sequence positions live outside the catalog, in `sequences.json` in the
//! data directory. Values are reserved 32 at a time and the reservation is made durable
//! before any of them is handed out; after a restart a sequence continues after its last
//! reservation, so a value is never handed out twice (gaps are possible, as in PostgreSQL).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use storage::catalog::{Catalog, SequenceDef};
use storage::types::Value;

use crate::error::{code, SqlError, SqlResult};
use crate::plan::SessionFn;

const RESERVE: i64 = 32;
const FILE: &str = "sequences.json";

#[derive(Default)]
struct State {
    /// Per sequence: last value handed out (None before the first), reserved up to.
    positions: BTreeMap<u32, (Option<i64>, i64)>,
    /// Per session and sequence: `currval`.
    current: HashMap<(i32, u32), i64>,
    last: HashMap<i32, i64>,
}

pub struct Sequences {
    path: PathBuf,
    state: Mutex<State>,
}

impl Sequences {
    pub fn open(dir: &Path) -> SqlResult<Sequences> {
        let path = dir.join(FILE);
        let mut state = State::default();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let map: BTreeMap<u32, i64> = serde_json::from_slice(&bytes).map_err(|e| {
                    SqlError::new(code::DATA_CORRUPTED, format!("{}: {e}", path.display()))
                })?;
                for (oid, reserved) in map {
                    state.positions.insert(oid, (Some(reserved), reserved));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(SqlError::new(
                    code::IO_ERROR,
                    format!("could not read {}: {e}", path.display()),
                ))
            }
        }
        Ok(Sequences {
            path,
            state: Mutex::new(state),
        })
    }

    fn persist(&self, state: &State) -> SqlResult<()> {
        let map: BTreeMap<u32, i64> = state.positions.iter().map(|(k, v)| (*k, v.1)).collect();
        let bytes = serde_json::to_vec(&map).map_err(|e| SqlError::internal(e.to_string()))?;
        let tmp = self.path.with_extension("tmp");
        let io =
            |e: std::io::Error| SqlError::new(code::IO_ERROR, format!("{}: {e}", tmp.display()));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    pub fn nextval(&self, seq: &SequenceDef, session: i32) -> SqlResult<i64> {
        let mut state = self.state.lock();
        let (last, reserved) = state.positions.get(&seq.oid).copied().unwrap_or((
            seq.last_value,
            seq.last_value.unwrap_or(seq.start - seq.increment),
        ));
        let mut next = match last {
            None => seq.start,
            Some(l) => l
                .checked_add(seq.increment)
                .unwrap_or(if seq.increment > 0 {
                    i64::MAX
                } else {
                    i64::MIN
                }),
        };
        let past_max = last.is_some()
            && (next > seq.max_value || (seq.increment > 0 && last == Some(i64::MAX)));
        let past_min = last.is_some()
            && (next < seq.min_value || (seq.increment < 0 && last == Some(i64::MIN)));
        if past_max || past_min {
            if !seq.cycle {
                let (bound, word) = if past_max {
                    (seq.max_value, "maximum")
                } else {
                    (seq.min_value, "minimum")
                };
                return Err(SqlError::new(
                    code::SEQUENCE_GENERATOR_LIMIT_EXCEEDED,
                    format!(
                        "nextval: reached {word} value of sequence \"{}\" ({bound})",
                        seq.name
                    ),
                ));
            }
            next = if seq.increment > 0 {
                seq.min_value
            } else {
                seq.max_value
            };
        }
        let needs_reserve = if seq.increment > 0 {
            next > reserved
        } else {
            next < reserved
        };
        let mut new_reserved = reserved;
        if needs_reserve || !state.positions.contains_key(&seq.oid) {
            new_reserved = next.saturating_add(seq.increment.saturating_mul(RESERVE));
        }
        state.positions.insert(seq.oid, (Some(next), new_reserved));
        if new_reserved != reserved {
            self.persist(&state)?;
        }
        state.current.insert((session, seq.oid), next);
        state.last.insert(session, next);
        Ok(next)
    }

    pub fn setval(
        &self,
        seq: &SequenceDef,
        value: i64,
        is_called: bool,
        session: i32,
    ) -> SqlResult<i64> {
        if value < seq.min_value || value > seq.max_value {
            return Err(SqlError::new(
                code::NUMERIC_VALUE_OUT_OF_RANGE,
                format!(
                    "setval: value {value} is out of bounds for sequence \"{}\" ({}..{})",
                    seq.name, seq.min_value, seq.max_value
                ),
            ));
        }
        let mut state = self.state.lock();
        let last = if is_called {
            Some(value)
        } else {
            value.checked_sub(seq.increment)
        };
        let last = if is_called || value != seq.start {
            last
        } else {
            None
        };
        let reserved = last.unwrap_or(value - seq.increment);
        state.positions.insert(seq.oid, (last, reserved));
        self.persist(&state)?;
        if is_called {
            state.current.insert((session, seq.oid), value);
            state.last.insert(session, value);
        }
        Ok(value)
    }

    pub fn currval(&self, seq: &SequenceDef, session: i32) -> SqlResult<i64> {
        self.state
            .lock()
            .current
            .get(&(session, seq.oid))
            .copied()
            .ok_or_else(|| {
                SqlError::new(
                    code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                    format!(
                        "currval of sequence \"{}\" is not yet defined in this session",
                        seq.name
                    ),
                )
            })
    }

    pub fn lastval(&self, session: i32) -> SqlResult<i64> {
        self.state
            .lock()
            .last
            .get(&session)
            .copied()
            .ok_or_else(|| {
                SqlError::new(
                    code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "lastval is not yet defined in this session",
                )
            })
    }

    /// Forgets a sequence whose creation was rolled back.
    pub fn forget(&self, oid: u32) {
        let mut state = self.state.lock();
        if state.positions.remove(&oid).is_some() {
            let _ = self.persist(&state);
        }
        state.current.retain(|(_, o), _| *o != oid);
    }

    /// Forgets a session's `currval`s (at disconnect).
    pub fn end_session(&self, session: i32) {
        let mut state = self.state.lock();
        state.current.retain(|(s, _), _| *s != session);
        state.last.remove(&session);
    }
}

/// Runs nextval / currval / setval / lastval.
pub fn call(
    f: SessionFn,
    args: &[Value],
    catalog: &Catalog,
    database: &super::Database,
    session: i32,
) -> SqlResult<Value> {
    let sequences = &database.sequences;
    if f == SessionFn::Lastval {
        return sequences.lastval(session).map(Value::Int8);
    }
    let oid = match args.first() {
        Some(Value::Int8(o)) => *o as u32,
        Some(Value::Null) | None => return Ok(Value::Null),
        Some(_) => return Err(SqlError::internal("sequence argument is not an OID")),
    };
    let seq = catalog.sequences.get(&oid).ok_or_else(|| {
        let name = catalog
            .tables
            .get(&oid)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| oid.to_string());
        SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{name}\" is not a sequence"),
        )
    })?;
    match f {
        SessionFn::Nextval => sequences.nextval(seq, session).map(Value::Int8),
        SessionFn::Currval => sequences.currval(seq, session).map(Value::Int8),
        SessionFn::Setval => {
            let value = match args.get(1) {
                Some(Value::Int8(v)) => *v,
                _ => return Ok(Value::Null),
            };
            let is_called = !matches!(args.get(2), Some(Value::Bool(false)));
            sequences
                .setval(seq, value, is_called, session)
                .map(Value::Int8)
        }
        _ => Err(SqlError::internal("not a sequence function")),
    }
}
