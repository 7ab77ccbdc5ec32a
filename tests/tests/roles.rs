//! Roles and privileges (issue 6, points 1 and 3), end to end against the real binary:
//!
//! - `roles_and_privileges_match_postgres`: one script of role DDL, grants and statements
//!   run as different roles (switched with SET SESSION AUTHORIZATION / SET ROLE) on
//!   PostgreSQL 15 and on custos; every statement's outcome — its rows, or its SQLSTATE and
//!   message — must be the same. It covers privilege denials per command, column privileges,
//!   views (checked for their owner), INHERIT / NOINHERIT, SET ROLE, grant options and
//!   CASCADE, sequences, `pg_authid`, the `has_*_privilege` family and `relacl`.
//! - `psql_du_and_dp_match_postgres`: psql's `\du` and `\dp` print the same on both.
//! - `custos_roles_and_grants_survive_restart`: roles, passwords, memberships and grants are
//!   in the catalog that the WAL and checkpoints keep.

use custos_tests::error::ensure;
use custos_tests::outcome::outcome;
use custos_tests::{CustosServer, Endpoint, HarnessError, HarnessResult, ReferencePostgres};
use tokio_postgres::Client;

/// The script: (statement, expected outcome on PostgreSQL 15 as a prefix). Expectations
/// make the test say what it proves; the comparison with PostgreSQL is what decides.
const SCRIPT: &[(&str, &str)] = &[
    ("CREATE ROLE r_reader LOGIN PASSWORD 'reader-pw'", "ok"),
    ("CREATE ROLE r_writer LOGIN", "ok"),
    ("CREATE ROLE r_group NOLOGIN", "ok"),
    ("CREATE ROLE r_noinherit NOINHERIT LOGIN", "ok"),
    ("GRANT r_group TO r_noinherit", "ok"),
    ("GRANT r_group TO r_reader", "ok"),
    ("CREATE TABLE acct (id int PRIMARY KEY, owner_name text, balance int, ssn text)", "ok"),
    ("INSERT INTO acct VALUES (1, 'a', 10, '111'), (2, 'b', 20, '222')", "ok"),
    ("CREATE VIEW acct_public AS SELECT id, owner_name FROM acct", "ok"),
    ("CREATE SEQUENCE s1", "ok"),
    ("GRANT SELECT (id, owner_name, balance) ON acct TO r_group", "ok"),
    ("GRANT SELECT ON acct_public TO r_writer", "ok"),
    ("GRANT INSERT (id, owner_name), UPDATE (balance) ON acct TO r_writer", "ok"),
    ("SELECT relacl FROM pg_class WHERE relname = 'acct_public'", "ok ["),
    (
        "CREATE FUNCTION acct_total() RETURNS bigint LANGUAGE sql SECURITY DEFINER \
         AS 'SELECT sum(balance) FROM acct'",
        "ok",
    ),
    (
        "CREATE FUNCTION acct_max_ssn() RETURNS text LANGUAGE sql AS 'SELECT max(ssn) FROM acct'",
        "ok",
    ),
    // A member of r_group, through INHERIT.
    ("SET SESSION AUTHORIZATION r_reader", "ok"),
    ("SELECT current_user, session_user", "ok [r_reader|r_reader]"),
    ("SELECT id, owner_name FROM acct ORDER BY id", "ok [1|a] [2|b]"),
    ("SELECT * FROM acct", "ERROR 42501"),
    ("SELECT count(*) FROM acct", "ok [2]"),
    ("SELECT ssn FROM acct WHERE id = 1", "ERROR 42501"),
    ("SELECT id FROM acct WHERE ssn = '111'", "ERROR 42501"),
    ("SELECT a.id FROM acct a JOIN acct b USING (id)", "ok"),
    ("SELECT (SELECT max(ssn) FROM acct)", "ERROR 42501"),
    ("SELECT id FROM acct WHERE EXISTS (SELECT 1 FROM acct x WHERE x.ssn = 'x')", "ERROR 42501"),
    ("UPDATE acct SET balance = 0", "ERROR 42501"),
    ("DELETE FROM acct", "ERROR 42501"),
    ("TRUNCATE acct", "ERROR 42501"),
    ("SELECT * FROM acct_public", "ERROR 42501"),
    ("INSERT INTO acct VALUES (3, 'c', 0, 'x')", "ERROR 42501"),
    ("COPY acct TO STDOUT", "ERROR 42501"),
    ("CREATE TABLE mine (x int)", "ERROR 42501"),
    ("CREATE SCHEMA mine", "ERROR 42501"),
    ("DROP TABLE acct", "ERROR 42501"),
    ("ALTER TABLE acct ADD COLUMN z int", "ERROR 42501"),
    ("CREATE INDEX ON acct (balance)", "ERROR 42501"),
    ("SET ROLE r_writer", "ERROR 42501"),
    ("SET ROLE r_group", "ok"),
    ("SELECT current_user, session_user", "ok [r_group|r_reader]"),
    ("RESET ROLE", "ok"),
    ("SELECT current_user", "ok [r_reader]"),
    (
        "SELECT has_table_privilege('acct', 'SELECT'), has_any_column_privilege('acct', 'SELECT'), \
         has_column_privilege('acct', 'ssn', 'SELECT'), has_column_privilege('acct', 'balance', 'SELECT')",
        "ok [f|t|f|t]",
    ),
    (
        "SELECT pg_has_role('r_group', 'MEMBER'), pg_has_role('r_writer', 'MEMBER')",
        "ok [t|f]",
    ),
    ("SELECT has_table_privilege('r_writer', 'acct_public', 'SELECT')", "ok [t]"),
    ("SELECT nextval('s1')", "ERROR 42501"),
    ("SELECT rolname FROM pg_authid", "ERROR 42501"),
    // SECURITY DEFINER runs with the owner's rights; an invoker function with the caller's.
    ("SELECT acct_total()", "ok [30]"),
    ("SELECT acct_max_ssn()", "ERROR 42501"),
    ("SELECT set_config('role', 'r_writer', false)", "ERROR"),
    ("SELECT current_user", "ok [r_reader]"),
    (
        "SELECT rolname, rolcanlogin, rolinherit FROM pg_roles WHERE rolname LIKE 'r\\_%' ORDER BY 1",
        "ok [r_group|f|t]",
    ),
    // NOINHERIT: the group's privileges only after SET ROLE.
    ("SET SESSION AUTHORIZATION r_noinherit", "ok"),
    ("SELECT id FROM acct ORDER BY id", "ERROR 42501"),
    ("SET ROLE r_group", "ok"),
    ("SELECT id FROM acct ORDER BY id", "ok [1] [2]"),
    ("RESET ROLE", "ok"),
    // Column-level INSERT and UPDATE; a view runs with its owner's rights.
    ("SET SESSION AUTHORIZATION r_writer", "ok"),
    ("SELECT * FROM acct_public ORDER BY id", "ok [1|a] [2|b]"),
    ("INSERT INTO acct (id, owner_name) VALUES (3, 'c')", "ok"),
    ("INSERT INTO acct (id, owner_name, ssn) VALUES (4, 'd', 'x')", "ERROR 42501"),
    ("INSERT INTO acct (id, owner_name) VALUES (5, 'e') RETURNING id", "ERROR 42501"),
    ("UPDATE acct SET balance = 5 WHERE id = 3", "ERROR 42501"),
    ("UPDATE acct SET balance = 5", "ok"),
    ("UPDATE acct SET owner_name = 'x'", "ERROR 42501"),
    ("COPY acct FROM STDIN", "ERROR 42501"),
    ("CREATE ROLE r_new", "ERROR 42501"),
    ("ALTER ROLE r_writer CREATEDB", "ERROR 42501"),
    ("ALTER ROLE r_writer PASSWORD 'new-pw'", "ok"),
    ("DROP ROLE r_group", "ERROR 42501"),
    ("GRANT r_group TO r_writer", "ERROR 42501"),
    ("GRANT SELECT ON acct TO r_reader", "ERROR 42501"),
    ("SET SESSION AUTHORIZATION r_reader", "ok"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    ("SELECT current_user, session_user", "ok [custos|custos]"),
    // Grant options and CASCADE.
    ("GRANT SELECT ON acct TO r_writer WITH GRANT OPTION", "ok"),
    ("SET SESSION AUTHORIZATION r_writer", "ok"),
    ("GRANT SELECT ON acct TO r_reader", "ok"),
    ("GRANT DELETE ON acct TO r_reader", "ok"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    ("SELECT relacl FROM pg_class WHERE relname = 'acct'", "ok ["),
    ("SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'acct'::regclass AND attnum > 0 ORDER BY attnum", "ok"),
    ("SET SESSION AUTHORIZATION r_reader", "ok"),
    ("SELECT * FROM acct ORDER BY id", "ok [1|a|5|111]"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    ("REVOKE SELECT ON acct FROM r_writer", "ERROR 2BP01"),
    ("REVOKE SELECT ON acct FROM r_writer CASCADE", "ok"),
    ("SELECT relacl FROM pg_class WHERE relname = 'acct'", "ok ["),
    ("SET SESSION AUTHORIZATION r_reader", "ok"),
    ("SELECT * FROM acct ORDER BY id", "ERROR 42501"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    // EXECUTE, once revoked from PUBLIC.
    ("REVOKE EXECUTE ON FUNCTION acct_total() FROM PUBLIC", "ok"),
    ("SELECT proacl FROM pg_proc WHERE proname = 'acct_total'", "ok ["),
    ("SET SESSION AUTHORIZATION r_reader", "ok"),
    ("SELECT acct_total()", "ERROR 42501"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    ("GRANT EXECUTE ON FUNCTION acct_total() TO r_group", "ok"),
    ("SET SESSION AUTHORIZATION r_reader", "ok"),
    ("SELECT acct_total()", "ok [15]"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    // Sequences.
    ("GRANT USAGE ON SEQUENCE s1 TO r_reader", "ok"),
    ("SET SESSION AUTHORIZATION r_reader", "ok"),
    ("SELECT nextval('s1')", "ok [1]"),
    ("SELECT setval('s1', 10)", "ERROR 42501"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    // Role DDL errors.
    ("CREATE ROLE r_reader", "ERROR 42710"),
    ("CREATE ROLE pg_mine", "ERROR 42939"),
    ("DROP ROLE r_group", "ERROR 2BP01"),
    ("DROP ROLE no_such_role", "ERROR 42704"),
    ("DROP ROLE IF EXISTS no_such_role", "ok"),
    ("GRANT no_such_role TO r_reader", "ERROR 42704"),
    ("GRANT SELECT ON acct TO no_such_role", "ERROR 42704"),
    ("GRANT USAGE ON TABLE acct TO r_reader", "ERROR 0LP01"),
    ("GRANT r_writer TO r_group", "ok"),
    ("GRANT r_group TO r_writer", "ERROR 0LP01"),
    ("GRANT r_group TO r_group", "ERROR 0LP01"),
    ("SET ROLE no_such_role", "ERROR 22023"),
    ("SET SESSION AUTHORIZATION no_such_role", "ERROR 22023"),
    ("ALTER ROLE r_reader NOLOGIN CONNECTION LIMIT 3", "ok"),
    ("SELECT rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = 'r_reader'", "ok [f|3]"),
    ("ALTER ROLE r_reader RENAME TO r_reader2", "ok"),
    ("SELECT count(*) FROM pg_roles WHERE rolname = 'r_reader2'", "ok [1]"),
    ("ALTER ROLE r_reader2 VALID UNTIL '2030-01-01 00:00:00+00'", "ok"),
    ("SELECT rolvaliduntil FROM pg_roles WHERE rolname = 'r_reader2'", "ok [2030-01-01 00:00:00+00]"),
    (
        "SELECT r.rolname, m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid \
         JOIN pg_roles m ON m.oid = a.member WHERE m.rolname LIKE 'r\\_%' ORDER BY 1, 2",
        "ok",
    ),
    // Ownership.
    ("ALTER TABLE acct OWNER TO r_writer", "ok"),
    ("SET SESSION AUTHORIZATION r_writer", "ok"),
    ("SELECT ssn FROM acct ORDER BY id", "ok [111] [222] [NULL]"),
    ("ALTER TABLE acct OWNER TO r_reader2", "ERROR 42501"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    ("REVOKE r_group FROM r_reader2", "ok"),
    ("REVOKE r_group FROM r_writer", "ok"),
    // Whole schemas: tables and views, not sequences.
    ("GRANT SELECT ON ALL TABLES IN SCHEMA public TO r_noinherit", "ok"),
    ("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO r_noinherit", "ok"),
    (
        "SELECT relname, relacl FROM pg_class WHERE relnamespace = 'public'::regnamespace \
         AND relkind IN ('r', 'v', 'S') ORDER BY 1",
        "ok",
    ),
    ("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM r_noinherit", "ok"),
    ("SET SESSION AUTHORIZATION r_noinherit", "ok"),
    ("SELECT id FROM acct_public", "ERROR 42501"),
    ("SELECT nextval('s1')", "ok [2]"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    ("GRANT CREATE ON SCHEMA public TO r_noinherit", "ok"),
    ("SELECT has_schema_privilege('r_noinherit', 'public', 'CREATE')", "ok [t]"),
    ("SET SESSION AUTHORIZATION r_noinherit", "ok"),
    ("CREATE TABLE noinherit_own (x int)", "ok"),
    ("DROP TABLE noinherit_own", "ok"),
    ("RESET SESSION AUTHORIZATION", "ok"),
    ("SELECT nspname, nspacl FROM pg_namespace WHERE nspname = 'public'", "ok"),
];

async fn run_script(client: &Client) -> Vec<String> {
    let mut outcomes = Vec::new();
    for (sql, _) in SCRIPT {
        outcomes.push(outcome(client, sql).await);
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_privileges_match_postgres() -> HarnessResult<()> {
    let reference = ReferencePostgres::start().await?;
    let postgres = reference.endpoint().connect().await?;
    let expected = run_script(&postgres).await;
    // The script states what PostgreSQL does.
    for ((sql, prefix), got) in SCRIPT.iter().zip(&expected) {
        ensure(got.starts_with(prefix), || {
            format!("PostgreSQL: `{sql}` gave {got}, the script expects {prefix}")
        })?;
    }
    let server = CustosServer::start().await?;
    let custos = server.endpoint().connect().await?;
    let actual = run_script(&custos).await;
    let mut differences = Vec::new();
    for ((sql, _), (want, got)) in SCRIPT.iter().zip(expected.iter().zip(&actual)) {
        if want != got {
            differences.push(format!("`{sql}`\n  postgres: {want}\n  custos:   {got}"));
        }
    }
    ensure(differences.is_empty(), || {
        format!(
            "{} statements differ:\n{}",
            differences.len(),
            differences.join("\n")
        )
    })
}

const PSQL_SETUP: &str = "\
CREATE ROLE analyst NOLOGIN;\n\
CREATE ROLE ann LOGIN CREATEDB CONNECTION LIMIT 5 VALID UNTIL '2031-06-01 12:00:00+00';\n\
CREATE ROLE bo LOGIN NOINHERIT CREATEROLE;\n\
GRANT analyst TO ann;\n\
GRANT analyst TO bo WITH ADMIN OPTION;\n\
CREATE TABLE customers (id int PRIMARY KEY, name text, email text);\n\
CREATE VIEW customer_names AS SELECT id, name FROM customers;\n\
CREATE SEQUENCE ticket_seq;\n\
GRANT SELECT, INSERT ON customers TO analyst;\n\
GRANT SELECT (email), UPDATE (name, email) ON customers TO ann;\n\
GRANT SELECT ON customer_names TO PUBLIC;\n\
GRANT USAGE ON SEQUENCE ticket_seq TO bo WITH GRANT OPTION;\n";

fn psql_output(endpoint: &Endpoint, commands: &str) -> HarnessResult<String> {
    let output = endpoint.psql(&["-v", "ON_ERROR_STOP=1"], Some(commands))?;
    if !output.success() {
        return Err(HarnessError::new(format!(
            "psql failed: {}{}",
            output.stdout, output.stderr
        )));
    }
    Ok(output.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_du_and_dp_match_postgres() -> HarnessResult<()> {
    let reference = ReferencePostgres::start().await?;
    let server = CustosServer::start().await?;
    let commands = "\\du\n\\dp\n\\dp customers\n\\du ann\n";
    let mut outputs = Vec::new();
    for endpoint in [reference.endpoint(), server.endpoint()] {
        let endpoint = endpoint.clone();
        let output = tokio::task::block_in_place(|| {
            psql_output(&endpoint, PSQL_SETUP)?;
            psql_output(&endpoint, commands)
        })?;
        outputs.push(output);
    }
    ensure(outputs[0] == outputs[1], || {
        format!(
            "psql \\du / \\dp differ.\n--- PostgreSQL 15:\n{}\n--- custos:\n{}",
            outputs[0], outputs[1]
        )
    })?;
    ensure(outputs[1].contains("analyst=ar/custos"), || {
        format!("\\dp shows the grants: {}", outputs[1])
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_roles_and_grants_survive_restart() -> HarnessResult<()> {
    let mut server = CustosServer::start().await?;
    {
        let client = server.endpoint().connect().await?;
        client
            .batch_execute(
                "CREATE ROLE keeper LOGIN PASSWORD 'keeper-pw' CONNECTION LIMIT 4;\
                 CREATE ROLE readers NOLOGIN;\
                 GRANT readers TO keeper;\
                 CREATE TABLE vault (id int PRIMARY KEY, secret text, label text);\
                 INSERT INTO vault VALUES (1, 's', 'l');\
                 GRANT SELECT (id, label) ON vault TO readers;\
                 CHECKPOINT;\
                 CREATE ROLE late LOGIN PASSWORD 'late-pw';\
                 GRANT INSERT ON vault TO late;",
            )
            .await?;
    }
    let stopped = tokio::task::block_in_place(|| server.kill9());
    ensure(stopped.is_some(), || {
        "the server was not running".to_string()
    })?;
    server.start_again().await?;
    for (user, password) in [("keeper", "keeper-pw"), ("late", "late-pw")] {
        let endpoint = Endpoint {
            user: user.into(),
            password: password.into(),
            ..server.endpoint().clone()
        };
        let client = endpoint.connect().await?;
        let who = outcome(&client, "SELECT current_user").await;
        ensure(who == format!("ok [{user}] (1)"), || {
            format!("{user}: {who}")
        })?;
        let read = outcome(&client, "SELECT id, label FROM vault").await;
        let secret = outcome(&client, "SELECT secret FROM vault").await;
        if user == "keeper" {
            ensure(read == "ok [1|l] (1)", || format!("keeper reads {read}"))?;
        } else {
            ensure(read.starts_with("ERROR 42501"), || {
                format!("late reads {read}")
            })?;
            let insert = outcome(&client, "INSERT INTO vault (id) VALUES (2)").await;
            ensure(insert == "ok (1)", || format!("late inserts: {insert}"))?;
        }
        ensure(
            secret == "ERROR 42501: permission denied for table vault",
            || format!("{user} reads the secret: {secret}"),
        )?;
    }
    let client = server.endpoint().connect().await?;
    let limit = outcome(
        &client,
        "SELECT rolconnlimit, rolcanlogin FROM pg_roles WHERE rolname = 'keeper'",
    )
    .await;
    ensure(limit == "ok [4|t] (1)", || {
        format!("keeper's attributes: {limit}")
    })?;
    let verifier = outcome(
        &client,
        "SELECT rolpassword LIKE 'SCRAM-SHA-256$4096:%' FROM pg_authid WHERE rolname = 'keeper'",
    )
    .await;
    ensure(verifier == "ok [t] (1)", || {
        format!("stored verifier: {verifier}")
    })
}

/// A statement prepared by one role and executed after SET ROLE runs with the new role's
/// privileges (catalogue item 5: the cached plan is checked again at each execution).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_prepared_statements_are_checked_for_the_role_that_executes_them(
) -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let client = server.endpoint().connect().await?;
    client
        .batch_execute(
            "CREATE ROLE clerk NOLOGIN;\
             CREATE TABLE ledger (id int PRIMARY KEY, amount int);\
             INSERT INTO ledger VALUES (1, 100);",
        )
        .await?;
    let statement = client
        .prepare("SELECT amount FROM ledger WHERE id = $1")
        .await?;
    let rows = client.query(&statement, &[&1i32]).await?;
    ensure(rows.len() == 1, || "the owner reads the ledger".to_string())?;
    client.batch_execute("SET ROLE clerk").await?;
    let denied = client.query(&statement, &[&1i32]).await;
    let code = denied
        .as_ref()
        .err()
        .and_then(|e| e.code())
        .map(|c| c.code().to_string());
    ensure(code.as_deref() == Some("42501"), || {
        format!("executing as clerk: {denied:?}")
    })?;
    client.batch_execute("RESET ROLE").await?;
    let rows = client.query(&statement, &[&1i32]).await?;
    ensure(rows.len() == 1, || "back to the owner".to_string())?;
    // A rolled-back SET ROLE is undone with its transaction.
    client
        .batch_execute("BEGIN; SET ROLE clerk; ROLLBACK;")
        .await?;
    let who: String = client.query_one("SELECT current_user", &[]).await?.get(0);
    ensure(who == "custos", || format!("after ROLLBACK: {who}"))
}
