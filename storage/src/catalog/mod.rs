//! The persisted catalog: schemas, tables, columns, constraints, indexes, views, comments,
//! and the governance objects later layers define (roles, grants, policies, security labels).
//!
//! The catalog is one value, changed copy-on-write by a transaction ([`crate::Transaction::catalog_mut`])
//! and committed with it: the WAL carries the whole new catalog, checkpoints write it to its
//! own file ([`file`]). Objects are identified by OIDs that never change and are never reused;
//! they start at [`FIRST_USER_OID`] as in PostgreSQL, so the SQL layer can expose them as-is.
//! Expressions (defaults, CHECK, policies) are kept as SQL text that the SQL layer parses.
//!
//! Every field has a serde default so that a catalog written by an older version still reads.

pub mod file;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::{DataType, Value};

/// First OID handed to user objects (PostgreSQL's `FirstNormalObjectId`).
pub const FIRST_USER_OID: u32 = 16384;

pub type Oid = u32;
/// A column's stable number (PostgreSQL's `attnum`, from 1). Also its position in stored rows.
pub type AttNum = u16;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Catalog {
    pub next_oid: Oid,
    pub schemas: BTreeMap<Oid, SchemaDef>,
    pub tables: BTreeMap<Oid, TableDef>,
    pub indexes: BTreeMap<Oid, IndexDef>,
    pub views: BTreeMap<Oid, ViewDef>,
    pub sequences: BTreeMap<Oid, SequenceDef>,
    pub functions: BTreeMap<Oid, FunctionDef>,
    pub roles: BTreeMap<Oid, RoleDef>,
    pub grants: Vec<GrantDef>,
    pub policies: BTreeMap<Oid, PolicyDef>,
    pub security_labels: Vec<SecurityLabelDef>,
    pub comments: Vec<CommentDef>,
    /// Installed extensions: name to version.
    pub extensions: BTreeMap<String, String>,
    /// Database-wide settings (`ALTER DATABASE ... SET`, server defaults kept with the data).
    pub settings: BTreeMap<String, String>,
    /// Row triggers (`CREATE TRIGGER ... FOR EACH ROW EXECUTE FUNCTION`).
    pub triggers: BTreeMap<Oid, TriggerDef>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog {
            next_oid: FIRST_USER_OID,
            schemas: BTreeMap::new(),
            tables: BTreeMap::new(),
            indexes: BTreeMap::new(),
            views: BTreeMap::new(),
            sequences: BTreeMap::new(),
            functions: BTreeMap::new(),
            roles: BTreeMap::new(),
            grants: Vec::new(),
            policies: BTreeMap::new(),
            triggers: BTreeMap::new(),
            security_labels: Vec::new(),
            comments: Vec::new(),
            extensions: BTreeMap::new(),
            settings: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SchemaDef {
    pub oid: Oid,
    pub name: String,
    pub owner: Oid,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TableDef {
    pub oid: Oid,
    pub schema: Oid,
    pub name: String,
    pub owner: Oid,
    /// Every column ever defined, dropped ones included (their `attnum` is never reused).
    pub columns: Vec<ColumnDef>,
    pub constraints: Vec<ConstraintDef>,
    pub row_security: bool,
    pub force_row_security: bool,
    /// Storage parameters (`WITH (...)`) and room for later options.
    pub options: BTreeMap<String, String>,
}

impl TableDef {
    pub fn column(&self, attnum: AttNum) -> Option<&ColumnDef> {
        self.columns.get(usize::from(attnum).checked_sub(1)?)
    }

    /// Live (not dropped) columns in order.
    pub fn live_columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.columns.iter().filter(|c| !c.dropped)
    }

    pub fn column_by_name(&self, name: &str) -> Option<&ColumnDef> {
        self.live_columns().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnDef {
    pub attnum: AttNum,
    pub name: String,
    pub data_type: DataType,
    pub not_null: bool,
    /// `DEFAULT` expression as SQL text.
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (expr) STORED` expression as SQL text.
    pub generated: Option<String>,
    pub identity: Option<IdentityKind>,
    pub dropped: bool,
    /// Value of this column in rows stored before it was added (PostgreSQL's
    /// `attmissingval`); NULL when absent.
    #[serde(with = "value_serde")]
    pub missing_value: Value,
}

impl Default for ColumnDef {
    fn default() -> Self {
        ColumnDef {
            attnum: 0,
            name: String::new(),
            data_type: DataType::Text,
            not_null: false,
            default: None,
            generated: None,
            identity: None,
            dropped: false,
            missing_value: Value::Null,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityKind {
    Always,
    ByDefault,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintDef {
    pub oid: Oid,
    pub name: String,
    pub kind: ConstraintKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConstraintKind {
    /// Enforced by the unique index `index`.
    PrimaryKey {
        columns: Vec<AttNum>,
        index: Oid,
    },
    Unique {
        columns: Vec<AttNum>,
        index: Oid,
    },
    Check {
        expression: String,
    },
    ForeignKey {
        columns: Vec<AttNum>,
        referenced_table: Oid,
        referenced_columns: Vec<AttNum>,
        on_delete: ReferentialAction,
        on_update: ReferentialAction,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferentialAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IndexMethodDef {
    Btree,
    Hnsw,
    IvfFlat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IndexDef {
    pub oid: Oid,
    pub name: String,
    pub schema: Oid,
    pub table: Oid,
    pub method: IndexMethodDef,
    /// Indexed columns; storage maintains an index only when every key is a plain column.
    pub columns: Vec<AttNum>,
    /// Key expressions as SQL text, for expression indexes (maintained by the SQL layer).
    pub expressions: Vec<String>,
    /// Operator class per key, e.g. `vector_cosine_ops`.
    pub opclasses: Vec<String>,
    pub unique: bool,
    pub primary: bool,
    /// `WITH (m = 16, ef_construction = 64)` and the like.
    pub options: Vec<(String, String)>,
    /// Partial-index predicate as SQL text.
    pub predicate: Option<String>,
}

impl Default for IndexDef {
    fn default() -> Self {
        IndexDef {
            oid: 0,
            name: String::new(),
            schema: 0,
            table: 0,
            method: IndexMethodDef::Btree,
            columns: Vec::new(),
            expressions: Vec::new(),
            opclasses: Vec::new(),
            unique: false,
            primary: false,
            options: Vec::new(),
            predicate: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewDef {
    pub oid: Oid,
    pub schema: Oid,
    pub name: String,
    pub owner: Oid,
    pub query: String,
    pub column_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SequenceDef {
    pub oid: Oid,
    pub schema: Oid,
    pub name: String,
    pub owner: Oid,
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cycle: bool,
    /// Column that owns the sequence (`serial`, identity): table and attnum.
    pub owned_by: Option<(Oid, AttNum)>,
    /// Last value handed out, as of this catalog version.
    pub last_value: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionDef {
    pub oid: Oid,
    pub schema: Oid,
    pub name: String,
    pub owner: Oid,
    pub arguments: Vec<(String, DataType)>,
    pub returns: Option<DataType>,
    pub returns_set: bool,
    pub language: String,
    pub body: String,
    /// VOLATILE / STABLE / IMMUTABLE, STRICT, SECURITY DEFINER, LEAKPROOF, COST...
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RoleDef {
    pub oid: Oid,
    pub name: String,
    /// LOGIN, SUPERUSER, CREATEROLE, BYPASSRLS, INHERIT, ... set to "true"/"false" or a value.
    pub attributes: BTreeMap<String, String>,
    /// SCRAM-SHA-256 verifier, never a clear-text password.
    pub password_verifier: Option<String>,
    pub member_of: Vec<Oid>,
    /// The roles of `member_of` this role holds WITH ADMIN OPTION (may grant them on).
    pub admin_of: Vec<Oid>,
    pub settings: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GrantDef {
    pub object_kind: String,
    pub object: Oid,
    /// Column-level grants name the column; 0 for the whole object.
    pub column: AttNum,
    pub grantee: Oid,
    pub grantor: Oid,
    pub privilege: String,
    pub with_grant_option: bool,
}

/// A row trigger: `timing` is BEFORE or AFTER, `events` some of INSERT, UPDATE, DELETE;
/// `update_columns` the attnums of `UPDATE OF` (empty: any update); `when` the WHEN
/// condition as written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TriggerDef {
    pub oid: Oid,
    pub name: String,
    pub table: Oid,
    pub function: Oid,
    pub timing: String,
    pub events: Vec<String>,
    pub update_columns: Vec<AttNum>,
    pub when: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyDef {
    pub oid: Oid,
    pub table: Oid,
    pub name: String,
    pub permissive: bool,
    /// ALL, SELECT, INSERT, UPDATE or DELETE.
    pub command: String,
    pub roles: Vec<Oid>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityLabelDef {
    pub provider: String,
    pub object_kind: String,
    pub object: Oid,
    pub column: AttNum,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CommentDef {
    pub object_kind: String,
    pub object: Oid,
    pub column: AttNum,
    pub text: String,
}

impl Catalog {
    /// A new OID, never handed out before by this catalog.
    pub fn allocate_oid(&mut self) -> Oid {
        let oid = self.next_oid;
        self.next_oid += 1;
        oid
    }

    pub fn table_by_name(&self, schema: Oid, name: &str) -> Option<&TableDef> {
        self.tables
            .values()
            .find(|t| t.schema == schema && t.name == name)
    }

    pub fn schema_by_name(&self, name: &str) -> Option<&SchemaDef> {
        self.schemas.values().find(|s| s.name == name)
    }

    /// Indexes of one table.
    pub fn indexes_of(&self, table: Oid) -> impl Iterator<Item = &IndexDef> {
        self.indexes.values().filter(move |i| i.table == table)
    }

    /// The OID of schema `name`, creating it when absent.
    pub fn ensure_schema(&mut self, name: &str, owner: Oid) -> Oid {
        if let Some(schema) = self.schema_by_name(name) {
            return schema.oid;
        }
        let oid = self.allocate_oid();
        self.schemas.insert(
            oid,
            SchemaDef {
                oid,
                name: name.to_string(),
                owner,
            },
        );
        oid
    }

    /// Adds a table with the given columns (name, type, NOT NULL) and, when `primary_key`
    /// names columns, a primary-key constraint and its unique index `<table>_pkey`.
    /// Returns the table's OID. Names are not checked for clashes: the SQL layer does that.
    pub fn create_table(
        &mut self,
        schema: Oid,
        name: &str,
        owner: Oid,
        columns: &[(&str, DataType, bool)],
        primary_key: &[&str],
    ) -> Oid {
        let oid = self.allocate_oid();
        let columns: Vec<ColumnDef> = columns
            .iter()
            .enumerate()
            .map(|(i, (column, data_type, not_null))| ColumnDef {
                attnum: i as AttNum + 1,
                name: column.to_string(),
                data_type: data_type.clone(),
                not_null: *not_null || primary_key.contains(column),
                ..Default::default()
            })
            .collect();
        let key: Vec<AttNum> = primary_key
            .iter()
            .filter_map(|k| columns.iter().find(|c| c.name == *k).map(|c| c.attnum))
            .collect();
        let mut constraints = Vec::new();
        if !key.is_empty() {
            let index = self.allocate_oid();
            let index_name = format!("{name}_pkey");
            constraints.push(ConstraintDef {
                oid: index,
                name: index_name.clone(),
                kind: ConstraintKind::PrimaryKey {
                    columns: key.clone(),
                    index,
                },
            });
            self.indexes.insert(
                index,
                IndexDef {
                    oid: index,
                    name: index_name,
                    schema,
                    table: oid,
                    columns: key,
                    unique: true,
                    primary: true,
                    ..Default::default()
                },
            );
        }
        self.tables.insert(
            oid,
            TableDef {
                oid,
                schema,
                name: name.to_string(),
                owner,
                columns,
                constraints,
                ..Default::default()
            },
        );
        oid
    }

    /// Adds a B-tree index on plain columns of `table`; returns its OID.
    pub fn create_btree_index(
        &mut self,
        table: Oid,
        name: &str,
        columns: &[&str],
        unique: bool,
    ) -> Option<Oid> {
        let def = self.tables.get(&table)?;
        let attnums: Option<Vec<AttNum>> = columns
            .iter()
            .map(|c| def.column_by_name(c).map(|c| c.attnum))
            .collect();
        let attnums = attnums?;
        let schema = def.schema;
        let oid = self.allocate_oid();
        self.indexes.insert(
            oid,
            IndexDef {
                oid,
                name: name.to_string(),
                schema,
                table,
                columns: attnums,
                unique,
                ..Default::default()
            },
        );
        Some(oid)
    }

    /// Checks the invariants storage relies on: every index names an existing table and
    /// existing, live columns of it; attnums are dense and in order.
    pub fn validate(&self) -> Result<(), String> {
        for table in self.tables.values() {
            for (i, column) in table.columns.iter().enumerate() {
                if usize::from(column.attnum) != i + 1 {
                    return Err(format!(
                        "table \"{}\": column \"{}\" has attnum {} at position {}",
                        table.name,
                        column.name,
                        column.attnum,
                        i + 1
                    ));
                }
            }
        }
        for index in self.indexes.values() {
            let Some(table) = self.tables.get(&index.table) else {
                return Err(format!("index \"{}\" names a missing table", index.name));
            };
            for attnum in &index.columns {
                match table.column(*attnum) {
                    Some(c) if !c.dropped => {}
                    _ => {
                        return Err(format!(
                            "index \"{}\" names a missing column {attnum}",
                            index.name
                        ))
                    }
                }
            }
            if index.method != IndexMethodDef::Btree {
                let [attnum] = index.columns.as_slice() else {
                    return Err(format!(
                        "vector index \"{}\" must have one column",
                        index.name
                    ));
                };
                if !table
                    .column(*attnum)
                    .is_some_and(|c| c.data_type.is_vector())
                {
                    return Err(format!(
                        "vector index \"{}\" is on a column that is not a vector",
                        index.name
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Serde for a [`Value`] kept in the catalog: its storage encoding as hex text.
mod value_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::types::{decode_value, encode_value, Value};

    pub fn serialize<S: Serializer>(value: &Value, serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        encode_value(&mut bytes, value);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        serializer.serialize_str(&hex)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        let hex = String::deserialize(deserializer)?;
        if hex.len() % 2 != 0 || !hex.is_ascii() {
            return Err(serde::de::Error::custom("odd-length hex value"));
        }
        let bytes: Result<Vec<u8>, _> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect();
        let bytes = bytes.map_err(serde::de::Error::custom)?;
        decode_value(&bytes).map_err(serde::de::Error::custom)
    }
}
