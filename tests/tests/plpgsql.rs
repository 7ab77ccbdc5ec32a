//! PL/pgSQL functions and row triggers (issue 6, point 7), end to end against the real
//! binary:
//!
//! - `plpgsql_matches_postgres`: one script run on PostgreSQL 15 and on custos; every
//!   statement's outcome — its rows, or its SQLSTATE and message — and the notices it
//!   raised (severity, SQLSTATE, message, detail, hint, in order) must be the same. It
//!   covers DECLARE (defaults, CONSTANT, NOT NULL), assignments, IF / ELSIF / ELSE, loops,
//!   RETURN, PERFORM, SELECT INTO [STRICT], FOUND, RAISE levels, placeholders and USING,
//!   STRICT and NULL, SECURITY DEFINER, a leaky function in WHERE seeing rows one by one,
//!   errors at CREATE time, and triggers that change NEW, skip rows, write audit rows, fire
//!   on COPY FROM (through psql) and honour WHEN and UPDATE OF.
//! - `unsupported_plpgsql_is_refused_at_create`: constructs PostgreSQL accepts and custos
//!   does not run are refused by CREATE FUNCTION / CREATE TRIGGER with 0A000 naming them;
//!   recursion deeper than the stack allows is 54001, and the connection goes on.
//! - `notices_reach_the_client_over_the_extended_protocol`: RAISE inside a function called
//!   through Parse / Bind / Execute.
//! - `functions_and_triggers_survive_restart`: both are in the catalog the WAL keeps.
//! - `psql_shows_triggers_as_postgres`: `\d table` lists triggers as psql does on PostgreSQL.

use custos_tests::endpoint::NoticeReceiver;
use custos_tests::error::ensure;
use custos_tests::{CustosServer, Endpoint, HarnessError, HarnessResult, ReferencePostgres};
use tokio_postgres::{Client, SimpleQueryMessage};

/// What one statement did (rows or error), preceded by the notices it raised.
async fn outcome(client: &Client, notices: &mut NoticeReceiver, sql: &str) -> String {
    let result = match client.simple_query(sql).await {
        Ok(messages) => {
            let mut out = String::from("ok");
            for message in messages {
                if let SimpleQueryMessage::Row(row) = message {
                    let values: Vec<String> = (0..row.len())
                        .map(|i| row.get(i).unwrap_or("NULL").to_string())
                        .collect();
                    out.push_str(&format!(" [{}]", values.join("|")));
                }
            }
            out
        }
        Err(error) => match error.as_db_error() {
            Some(db) => format!("ERROR {}: {}", db.code().code(), db.message()),
            None => format!("client error: {error}"),
        },
    };
    format!("{}{result}", drain(notices).await)
}

/// The notices received so far, each as `{SEVERITY code: message / detail / hint} `.
async fn drain(notices: &mut NoticeReceiver) -> String {
    tokio::task::yield_now().await;
    let mut out = String::new();
    while let Ok(n) = notices.try_recv() {
        out.push_str(&format!(
            "{{{} {}: {}{}{}}} ",
            n.severity(),
            n.code().code(),
            n.message(),
            n.detail().map(|d| format!(" / {d}")).unwrap_or_default(),
            n.hint().map(|h| format!(" / {h}")).unwrap_or_default(),
        ));
    }
    out
}

/// (statement, what PostgreSQL 15 does, as a prefix of its outcome).
const SCRIPT: &[(&str, &str)] = &[
    ("CREATE TABLE acct (id int PRIMARY KEY, owner text, balance int, email text)", "ok"),
    (
        "INSERT INTO acct VALUES (1, 'ann', 100, 'ann@x.com'), (2, 'bo', -5, 'bo@y.org'), (3, 'cy', 0, NULL)",
        "ok",
    ),
    // DECLARE, CONSTANT, := and =, IF / ELSIF / ELSE, NULL;
    (
        "CREATE FUNCTION classify(b int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
         DECLARE
           label text := 'zero';
           factor CONSTANT int = 2;
           doubled int;
         BEGIN
           doubled := b * factor;
           IF b > 0 THEN label := 'positive';
           ELSIF b < 0 THEN label = 'negative';
           ELSE NULL;
           END IF;
           RETURN label || ':' || doubled;
         END $$",
        "ok",
    ),
    ("SELECT id, classify(balance) FROM acct ORDER BY id", "ok [1|positive:200] [2|negative:-10] [3|zero:0]"),
    ("SELECT classify(NULL)", "ok [NULL]"),
    // SELECT INTO, FOUND, STRICT.
    (
        "CREATE FUNCTION owner_of(p_id int) RETURNS text LANGUAGE plpgsql STABLE AS $$
         DECLARE o text;
         BEGIN
           SELECT owner INTO o FROM acct WHERE id = p_id;
           IF NOT FOUND THEN RETURN 'nobody'; END IF;
           RETURN o;
         END $$",
        "ok",
    ),
    ("SELECT owner_of(2), owner_of(9)", "ok [bo|nobody]"),
    (
        "CREATE FUNCTION strict_owner(p_id int) RETURNS text LANGUAGE plpgsql AS $$
         DECLARE o text;
         BEGIN
           SELECT owner INTO STRICT o FROM acct WHERE id = p_id;
           RETURN o;
         END $$",
        "ok",
    ),
    ("SELECT strict_owner(3)", "ok [cy]"),
    ("SELECT strict_owner(9)", "ERROR P0002: query returned no rows"),
    (
        "CREATE FUNCTION any_owner() RETURNS text LANGUAGE plpgsql AS $$
         DECLARE o text; BEGIN SELECT owner INTO STRICT o FROM acct; RETURN o; END $$",
        "ok",
    ),
    ("SELECT any_owner()", "ERROR P0003: query returned more than one row"),
    // Loops, STRICT (NULL in, NULL out), positional parameters, PERFORM.
    (
        "CREATE FUNCTION sum_to(n int) RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT AS $$
         DECLARE s int := 0; i int := 0;
         BEGIN
           FOR k IN 1..n LOOP s := s + k; END LOOP;
           WHILE i < 3 LOOP i := i + 1; END LOOP;
           FOR k IN REVERSE 10..1 BY 3 LOOP s := s + 1000; END LOOP;
           LOOP i := i + 1; EXIT WHEN i >= 10; END LOOP;
           PERFORM 1 FROM acct WHERE balance > $1;
           IF FOUND THEN s := s + 1; END IF;
           RETURN s + i;
         END $$",
        "ok",
    ),
    ("SELECT sum_to(4), sum_to(NULL), sum_to(200)", "ok [4021|NULL|24110]"),
    // RAISE: levels, placeholders, %%, NULL, USING.
    (
        "CREATE FUNCTION shout(who text, n int) RETURNS void LANGUAGE plpgsql AS $$
         BEGIN
           RAISE NOTICE 'hello % (% times), 100%% sure', who, n;
           RAISE WARNING 'careful: %', NULL::text;
           RAISE INFO 'info %', n + 1;
           RAISE NOTICE USING MESSAGE = 'from using ' || who, DETAIL = 'some detail', HINT = 'a hint';
           RAISE DEBUG 'not sent';
         END $$",
        "ok",
    ),
    ("SELECT shout('ann', 2)", "{NOTICE 00000: hello ann (2 times), 100% sure} {WARNING 01000: careful: <NULL>}"),
    (
        "CREATE FUNCTION check_positive(v int) RETURNS int LANGUAGE plpgsql AS $$
         BEGIN
           IF v < 0 THEN
             RAISE EXCEPTION 'negative value: %', v USING HINT = 'use a positive number';
           END IF;
           RETURN v;
         END $$",
        "ok",
    ),
    ("SELECT check_positive(5)", "ok [5]"),
    ("SELECT check_positive(-3)", "ERROR P0001: negative value: -3"),
    ("SELECT id FROM acct WHERE check_positive(balance) > 0", "ERROR P0001: negative value: -5"),
    (
        "CREATE FUNCTION codes(k int) RETURNS int LANGUAGE plpgsql AS $$
         BEGIN
           IF k = 1 THEN RAISE EXCEPTION 'custom' USING ERRCODE = '22012'; END IF;
           IF k = 2 THEN RAISE unique_violation USING MESSAGE = 'dup!'; END IF;
           IF k = 3 THEN RAISE SQLSTATE 'P1234'; END IF;
           IF k = 4 THEN RAISE 'plain %', k; END IF;
           IF k = 5 THEN RAISE NOTICE 'coded' USING ERRCODE = 'division_by_zero'; RETURN 5; END IF;
         END $$",
        "ok",
    ),
    ("SELECT codes(1)", "ERROR 22012: custom"),
    ("SELECT codes(2)", "ERROR 23505: dup!"),
    ("SELECT codes(3)", "ERROR P1234: P1234"),
    ("SELECT codes(4)", "ERROR P0001: plain 4"),
    ("SELECT codes(5)", "{NOTICE 22012: coded} ok [5]"),
    ("SELECT codes(6)", "ERROR 2F005: control reached end of function without RETURN"),
    // A leaky function in WHERE sees the rows the scan passes it, one by one.
    (
        "CREATE FUNCTION leak(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
         BEGIN RAISE NOTICE 'saw %', v; RETURN true; END $$",
        "ok",
    ),
    (
        "SELECT id FROM acct WHERE leak(email) ORDER BY id",
        "{NOTICE 00000: saw ann@x.com} {NOTICE 00000: saw bo@y.org} {NOTICE 00000: saw <NULL>} ok [1] [2] [3]",
    ),
    ("SELECT leak('in values') FROM (VALUES (1)) v(x)", "{NOTICE 00000: saw in values} ok [t]"),
    // Nested calls; functions calling functions.
    (
        "CREATE FUNCTION twice(t text) RETURNS text LANGUAGE plpgsql AS $$
         BEGIN RETURN classify(length(t)) || '/' || owner_of(1); END $$",
        "ok",
    ),
    ("SELECT twice('abc')", "ok [positive:6/ann]"),
    // A loop variable named like a table alias: the alias stays a name.
    (
        "CREATE FUNCTION alias_clash(n int) RETURNS bigint LANGUAGE plpgsql AS $$
         DECLARE total bigint := 0;
         BEGIN
           FOR i IN 1..n LOOP
             SELECT total + count(*) INTO total FROM acct i WHERE i.balance >= 0;
           END LOOP;
           RETURN total;
         END $$",
        "ok",
    ),
    ("SELECT alias_clash(2)", "ok [4]"),
    // Errors at CREATE time.
    ("CREATE FUNCTION bad1() RETURNS int LANGUAGE plpgsql AS $$ BEGIN nosuch := 1; RETURN 1; END $$", "ERROR 42601: \"nosuch\" is not a known variable"),
    (
        "CREATE FUNCTION bad2() RETURNS int LANGUAGE plpgsql AS $$ DECLARE c CONSTANT int := 1; BEGIN c := 2; RETURN 1; END $$",
        "ERROR 22005: variable \"c\" is declared CONSTANT",
    ),
    ("CREATE FUNCTION bad3() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1 END $$", "ERROR 42601: syntax error at end of input"),
    ("CREATE FUNCTION bad4() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'a % %', 1; RETURN 1; END $$", "ERROR 42601: too few parameters specified for RAISE"),
    ("CREATE FUNCTION bad5() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'a', 1; RETURN 1; END $$", "ERROR 42601: too many parameters specified for RAISE"),
    ("CREATE FUNCTION bad6() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE nosuchcond; RETURN 1; END $$", "ERROR 42704: unrecognized exception condition \"nosuchcond\""),
    ("CREATE FUNCTION bad7(a int) RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$", "ERROR 42P13: trigger functions cannot have declared arguments"),
    ("CREATE FUNCTION bad8() RETURNS trigger LANGUAGE sql AS $$ SELECT 1 $$", "ERROR 42P13: SQL functions cannot return type trigger"),
    ("CREATE FUNCTION bad9() RETURNS int LANGUAGE plpgsql AS $$ BEGIN foo bar; RETURN 1; END $$", "ERROR 42601: syntax error at or near \"foo\""),
    ("CREATE FUNCTION bad10() RETURNS int LANGUAGE plpgsql AS $$ DECLARE x int NOT NULL; BEGIN RETURN 1; END $$", "ERROR 22004"),
    ("CREATE FUNCTION bad11() RETURNS int LANGUAGE plpgsql AS $$ DECLARE x nosuchtype; BEGIN RETURN 1; END $$", "ERROR 42704: type \"nosuchtype\" does not exist"),
    ("CREATE FUNCTION bad12() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$", "ERROR 42804: RETURN cannot have a parameter in function returning void"),
    // SECURITY DEFINER runs as the owner; LEAKPROOF is for superusers.
    ("CREATE TABLE secret (v int)", "ok"),
    ("INSERT INTO secret VALUES (1), (2)", "ok"),
    (
        "CREATE FUNCTION secret_count() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
         DECLARE n bigint; BEGIN SELECT count(*) INTO n FROM secret; RETURN n; END $$",
        "ok",
    ),
    (
        "CREATE FUNCTION secret_count_invoker() RETURNS bigint LANGUAGE plpgsql AS $$
         DECLARE n bigint; BEGIN SELECT count(*) INTO n FROM secret; RETURN n; END $$",
        "ok",
    ),
    ("CREATE ROLE plp_user", "ok"),
    ("GRANT CREATE ON SCHEMA public TO plp_user", "ok"),
    ("SET ROLE plp_user", "ok"),
    ("SELECT secret_count()", "ok [2]"),
    ("SELECT secret_count_invoker()", "ERROR 42501: permission denied for table secret"),
    (
        "CREATE FUNCTION lp(x int) RETURNS int LANGUAGE plpgsql LEAKPROOF AS $$ BEGIN RETURN x; END $$",
        "ERROR 42501: only superuser can define a leakproof function",
    ),
    ("RESET ROLE", "ok"),
    ("CREATE FUNCTION lp(x int) RETURNS int LANGUAGE plpgsql LEAKPROOF AS $$ BEGIN RETURN x; END $$", "ok"),
    (
        "SELECT p.proname, l.lanname, p.provolatile, p.proisstrict, p.prosecdef, p.proleakproof \
         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang \
         WHERE p.proname IN ('classify', 'sum_to', 'secret_count', 'lp') ORDER BY 1",
        "ok [classify|plpgsql|i|f|f|f] [lp|plpgsql|v|f|f|t]",
    ),
    // Triggers.
    ("CREATE TABLE audit (op text, tbl text, tg_when text, id int, old_balance int, new_balance int)", "ok"),
    (
        "CREATE FUNCTION normalise() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.balance < 0 THEN
             RAISE NOTICE 'skipping % (balance %)', NEW.owner, NEW.balance;
             RETURN NULL;
           END IF;
           NEW.owner := upper(NEW.owner);
           NEW.email := coalesce(NEW.email, NEW.owner || '@unknown');
           RETURN NEW;
         END $$",
        "ok",
    ),
    (
        "CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
         BEGIN
           IF TG_OP = 'DELETE' THEN
             INSERT INTO audit VALUES (TG_OP, TG_TABLE_NAME, TG_WHEN, OLD.id, OLD.balance, NULL);
             RETURN OLD;
           ELSIF TG_OP = 'UPDATE' THEN
             INSERT INTO audit VALUES (TG_OP, TG_TABLE_NAME, TG_WHEN, NEW.id, OLD.balance, NEW.balance);
           ELSE
             INSERT INTO audit VALUES (TG_OP, TG_TABLE_NAME, TG_WHEN, NEW.id, NULL, NEW.balance);
           END IF;
           RETURN NEW;
         END $$",
        "ok",
    ),
    ("CREATE TABLE ledger (id int PRIMARY KEY, owner text, balance int, email text)", "ok"),
    ("CREATE TRIGGER a_normalise BEFORE INSERT OR UPDATE OF owner, balance ON ledger FOR EACH ROW EXECUTE FUNCTION normalise()", "ok"),
    ("CREATE TRIGGER z_audit AFTER INSERT OR UPDATE OR DELETE ON ledger FOR EACH ROW EXECUTE FUNCTION audit_row()", "ok"),
    (
        "CREATE TRIGGER big_change BEFORE UPDATE ON ledger FOR EACH ROW WHEN (NEW.balance > OLD.balance + 100) EXECUTE FUNCTION normalise()",
        "ok",
    ),
    ("CREATE TRIGGER z_audit AFTER INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION audit_row()", "ERROR 42710: trigger \"z_audit\" for relation \"ledger\" already exists"),
    ("CREATE TRIGGER t1 BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION classify()", "ERROR 42883: function classify() does not exist"),
    ("CREATE TRIGGER t1 BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION any_owner()", "ERROR 42P17: function any_owner must return type trigger"),
    ("CREATE TRIGGER t1 BEFORE INSERT ON ledger FOR EACH ROW WHEN (OLD.id > 1) EXECUTE FUNCTION normalise()", "ERROR 42P17: INSERT trigger's WHEN condition cannot reference OLD values"),
    ("SELECT normalise()", "ERROR 0A000: trigger functions can only be called as triggers"),
    (
        "INSERT INTO ledger VALUES (1, 'ann', 10, NULL), (2, 'bo', -1, NULL), (3, 'cy', 5, 'cy@z.net')",
        "{NOTICE 00000: skipping bo (balance -1)} ok",
    ),
    ("SELECT * FROM ledger ORDER BY id", "ok [1|ANN|10|ANN@unknown] [3|CY|5|cy@z.net]"),
    ("INSERT INTO ledger VALUES (4, 'dee', 1, NULL) RETURNING owner, email", "ok [DEE|DEE@unknown]"),
    ("UPDATE ledger SET balance = balance + 1 WHERE id = 1 RETURNING owner", "ok [ANN]"),
    ("UPDATE ledger SET email = 'x@y' WHERE id = 3", "ok"),
    ("UPDATE ledger SET balance = -9 WHERE id = 3", "{NOTICE 00000: skipping CY (balance -9)} ok"),
    ("DELETE FROM ledger WHERE id = 4", "ok"),
    ("SELECT * FROM ledger ORDER BY id", "ok [1|ANN|11|ANN@unknown] [3|CY|5|x@y]"),
    (
        "SELECT op, tbl, tg_when, id, old_balance, new_balance FROM audit",
        "ok [INSERT|ledger|AFTER|1|NULL|10] [INSERT|ledger|AFTER|3|NULL|5] [INSERT|ledger|AFTER|4|NULL|1]",
    ),
    ("DROP TRIGGER a_normalise ON ledger", "ok"),
    ("DROP TRIGGER a_normalise ON ledger", "ERROR 42704: trigger \"a_normalise\" for table \"ledger\" does not exist"),
    ("DROP TRIGGER IF EXISTS a_normalise ON ledger", "{NOTICE 00000: trigger \"a_normalise\" for relation \"ledger\" does not exist, skipping} ok"),
    ("UPDATE ledger SET balance = 500 WHERE id = 1", "ok"),
    ("SELECT owner, balance FROM ledger WHERE id = 1", "ok [ANN|500]"),
    ("DROP FUNCTION audit_row()", "ERROR 2BP01: cannot drop function audit_row() because other objects depend on it"),
    // Constraints are checked on the row a BEFORE trigger returns.
    ("CREATE TABLE stamped (id int, created text NOT NULL, CHECK (id > 0))", "ok"),
    (
        "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.id <> 99 THEN NEW.created := coalesce(NEW.created, 'auto'); END IF;
           RETURN NEW;
         END $$",
        "ok",
    ),
    ("CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON stamped FOR EACH ROW EXECUTE FUNCTION stamp()", "ok"),
    ("INSERT INTO stamped (id) VALUES (1)", "ok"),
    (
        "INSERT INTO stamped (id) VALUES (99)",
        "ERROR 23502: null value in column \"created\" of relation \"stamped\" violates not-null constraint",
    ),
    (
        "INSERT INTO stamped VALUES (-1, 'x')",
        "ERROR 23514: new row for relation \"stamped\" violates check constraint \"stamped_id_check\"",
    ),
    ("UPDATE stamped SET created = NULL", "ok"),
    ("ALTER TABLE stamped DISABLE TRIGGER stamp", "ok"),
    ("UPDATE stamped SET created = NULL", "ERROR 23502"),
    ("ALTER TABLE stamped ENABLE TRIGGER ALL", "ok"),
    ("SELECT * FROM stamped", "ok [1|auto]"),
    // An exception in a trigger undoes the statement.
    (
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'refused % on %', TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation'; END $$",
        "ok",
    ),
    ("CREATE TRIGGER refuse_delete BEFORE DELETE ON ledger FOR EACH ROW EXECUTE FUNCTION refuse()", "ok"),
    ("DELETE FROM ledger", "ERROR 23514: refused DELETE on ledger"),
    ("SELECT count(*) FROM ledger", "ok [2]"),
    ("DROP TRIGGER refuse_delete ON ledger", "ok"),
];

/// Rows loaded with COPY FROM STDIN (through psql) after the script; the triggers fire.
const COPY_IN: &str = "COPY ledger FROM STDIN;\n7\tgus\t3\t\\N\n8\thal\t-2\t\\N\n\\.\n\
COPY stamped (id) FROM STDIN;\n5\n\\.\n";

/// Statements after the COPY: what the triggers did to its rows.
const AFTER_COPY: &[(&str, &str)] = &[
    (
        "SELECT * FROM ledger WHERE id > 5 ORDER BY id",
        "ok [7|gus|3|NULL] [8|hal|-2|NULL]",
    ),
    // The BEFORE trigger fills the NOT NULL column of the copied row.
    ("SELECT * FROM stamped ORDER BY id", "ok [1|auto] [5|auto]"),
    (
        "SELECT op, id, new_balance FROM audit WHERE id > 5 ORDER BY id",
        "ok [INSERT|7|3] [INSERT|8|-2]",
    ),
];

async fn run_script(
    client: &Client,
    notices: &mut NoticeReceiver,
    script: &[(&str, &str)],
) -> Vec<String> {
    let mut outcomes = Vec::new();
    for (sql, _) in script {
        outcomes.push(outcome(client, notices, sql).await);
    }
    outcomes
}

fn compare(
    script: &[(&str, &str)],
    expected: &[String],
    actual: &[String],
    differences: &mut Vec<String>,
) -> HarnessResult<()> {
    for ((sql, prefix), got) in script.iter().zip(expected) {
        ensure(got.starts_with(prefix), || {
            format!("PostgreSQL: `{sql}` gave {got}, the script expects {prefix}")
        })?;
    }
    for ((sql, _), (want, got)) in script.iter().zip(expected.iter().zip(actual)) {
        if want != got {
            differences.push(format!("`{sql}`\n  postgres: {want}\n  custos:   {got}"));
        }
    }
    Ok(())
}

fn psql(endpoint: &Endpoint, input: &str) -> HarnessResult<String> {
    let output = endpoint.psql(&["-q"], Some(input))?;
    Ok(format!("{}{}", output.stdout, output.stderr))
}

async fn run_all(endpoint: &Endpoint) -> HarnessResult<(Vec<String>, String, Vec<String>)> {
    let (client, mut notices) = endpoint.connect_with_notices().await?;
    let first = run_script(&client, &mut notices, SCRIPT).await;
    // The COPY with BEFORE and AFTER triggers: the audit trigger only (the normalising
    // one was dropped above), plus one that skips negative balances on COPY.
    client
        .batch_execute(
            "CREATE TRIGGER a_normalise BEFORE INSERT ON ledger FOR EACH ROW \
             WHEN (NEW.balance > 100) EXECUTE FUNCTION normalise()",
        )
        .await?;
    let endpoint = endpoint.clone();
    let copied = tokio::task::block_in_place(|| psql(&endpoint, COPY_IN))?;
    let second = run_script(&client, &mut notices, AFTER_COPY).await;
    Ok((first, copied, second))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plpgsql_matches_postgres() -> HarnessResult<()> {
    let reference = ReferencePostgres::start().await?;
    let (expected, expected_copy, expected_after) = run_all(reference.endpoint()).await?;
    let server = CustosServer::start().await?;
    let (actual, actual_copy, actual_after) = run_all(server.endpoint()).await?;
    let mut differences = Vec::new();
    compare(SCRIPT, &expected, &actual, &mut differences)?;
    compare(AFTER_COPY, &expected_after, &actual_after, &mut differences)?;
    if expected_copy != actual_copy {
        differences.push(format!(
            "COPY through psql\n  postgres: {expected_copy}\n  custos:   {actual_copy}"
        ));
    }
    ensure(differences.is_empty(), || {
        format!(
            "{} statements differ:\n{}",
            differences.len(),
            differences.join("\n")
        )
    })
}

/// Valid PL/pgSQL (PostgreSQL accepts each) that custos refuses at CREATE, naming it.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "CREATE FUNCTION u1() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; EXCEPTION WHEN others THEN RETURN 2; END $$",
        "EXCEPTION block",
    ),
    (
        "CREATE FUNCTION u2() RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SELECT 1'; RETURN 1; END $$",
        "EXECUTE",
    ),
    (
        "CREATE FUNCTION u3() RETURNS int LANGUAGE plpgsql AS $$ DECLARE c CURSOR FOR SELECT 1; BEGIN RETURN 1; END $$",
        "cursor",
    ),
    (
        "CREATE FUNCTION u4() RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN RETURN NEXT 1; END $$",
        "RETURNS SETOF",
    ),
    (
        "CREATE FUNCTION u5() RETURNS int LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN FOR r IN SELECT 1 AS a LOOP END LOOP; RETURN 1; END $$",
        "record variable",
    ),
    (
        "CREATE FUNCTION u6() RETURNS int LANGUAGE plpgsql AS $$ BEGIN CREATE TABLE u6t (a int); RETURN 1; END $$",
        "CREATE statement",
    ),
    (
        "CREATE TRIGGER u7 AFTER INSERT ON t FOR EACH STATEMENT EXECUTE FUNCTION tf()",
        "FOR EACH STATEMENT",
    ),
    (
        "CREATE TRIGGER u8 AFTER INSERT ON t EXECUTE FUNCTION tf()",
        "FOR EACH STATEMENT",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_plpgsql_is_refused_at_create() -> HarnessResult<()> {
    let setup = "CREATE TABLE t (a int); \
                 CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$";
    let reference = ReferencePostgres::start().await?;
    let (postgres, mut pg_notices) = reference.endpoint().connect_with_notices().await?;
    postgres.batch_execute(setup).await?;
    let server = CustosServer::start().await?;
    let (custos, mut notices) = server.endpoint().connect_with_notices().await?;
    custos.batch_execute(setup).await?;
    for (sql, named) in UNSUPPORTED {
        let pg = outcome(&postgres, &mut pg_notices, sql).await;
        ensure(pg == "ok", || format!("PostgreSQL: `{sql}` gave {pg}"))?;
        let got = outcome(&custos, &mut notices, sql).await;
        ensure(
            got.starts_with("ERROR 0A000") && got.contains(named),
            || format!("custos: `{sql}` gave {got}, expected 0A000 naming {named}"),
        )?;
    }
    // Recursion deeper than the stack allows is an error, not a crash.
    let deep = outcome(
        &custos,
        &mut notices,
        "CREATE FUNCTION fact(n int) RETURNS numeric LANGUAGE plpgsql AS $$
         BEGIN IF n <= 1 THEN RETURN 1; END IF; RETURN n * fact(n - 1); END $$",
    )
    .await;
    ensure(deep == "ok", || format!("CREATE FUNCTION fact: {deep}"))?;
    let deep = outcome(&custos, &mut notices, "SELECT fact(100000)").await;
    ensure(deep == "ERROR 54001: stack depth limit exceeded", || {
        format!("deep recursion: {deep}")
    })?;
    let alive = outcome(&custos, &mut notices, "SELECT fact(3)").await;
    ensure(alive == "ok [6]", || {
        format!("after deep recursion: {alive}")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_reach_the_client_over_the_extended_protocol() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let reference = ReferencePostgres::start().await?;
    let mut results = Vec::new();
    for endpoint in [reference.endpoint(), server.endpoint()] {
        let (client, mut notices) = endpoint.connect_with_notices().await?;
        client
            .batch_execute(
                "CREATE FUNCTION greet(who text, n int) RETURNS int LANGUAGE plpgsql AS $$
                 BEGIN
                   RAISE NOTICE 'hi % #%', who, n;
                   RAISE WARNING 'second';
                   RETURN n * 2;
                 END $$",
            )
            .await?;
        let rows = client
            .query("SELECT greet($1, $2)", &[&"ext", &21i32])
            .await
            .map_err(HarnessError::from)?;
        let value: i32 = rows[0].get(0);
        let raised = drain(&mut notices).await;
        results.push(format!("{raised}{value}"));
    }
    ensure(results[0] == results[1], || {
        format!("postgres: {}\ncustos:   {}", results[0], results[1])
    })?;
    ensure(
        results[1] == "{NOTICE 00000: hi ext #21} {WARNING 01000: second} 42",
        || results[1].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_and_triggers_survive_restart() -> HarnessResult<()> {
    let mut server = CustosServer::start().await?;
    {
        let client = server.endpoint().connect().await?;
        client
            .batch_execute(
                "CREATE TABLE items (id int, name text);\
                 CREATE TABLE item_log (id int, name text);\
                 CREATE FUNCTION up() RETURNS trigger LANGUAGE plpgsql AS $$\
                   BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$;\
                 CREATE FUNCTION log_item() RETURNS trigger LANGUAGE plpgsql AS $$\
                   BEGIN INSERT INTO item_log VALUES (NEW.id, NEW.name); RETURN NULL; END $$;\
                 CHECKPOINT;\
                 CREATE TRIGGER items_up BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION up();\
                 CREATE TRIGGER items_log AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION log_item();\
                 CREATE FUNCTION half(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x / 2; END $$;",
            )
            .await?;
    }
    let stopped = tokio::task::block_in_place(|| server.kill9());
    ensure(stopped.is_some(), || {
        "the server was not running".to_string()
    })?;
    server.start_again().await?;
    let (client, mut notices) = server.endpoint().connect_with_notices().await?;
    let inserted = outcome(&client, &mut notices, "INSERT INTO items VALUES (1, 'abc')").await;
    ensure(inserted == "ok", || format!("insert: {inserted}"))?;
    let rows = outcome(
        &client,
        &mut notices,
        "SELECT i.name, l.name, half(10) FROM items i JOIN item_log l USING (id)",
    )
    .await;
    ensure(rows == "ok [ABC|ABC|5]", || {
        format!("after restart: {rows}")
    })
}

/// psql's `\d table` "Triggers:" footers (from `pg_trigger` and `pg_get_triggerdef`).
const PSQL_TRIGGERS: &str = "\
CREATE TABLE trg_t (id int, name text, balance int);\n\
CREATE FUNCTION trg_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
CREATE TRIGGER b_trg BEFORE INSERT OR UPDATE OF name, balance ON trg_t FOR EACH ROW EXECUTE FUNCTION trg_f();\n\
CREATE TRIGGER a_trg AFTER DELETE ON trg_t FOR EACH ROW WHEN (OLD.balance > 0) EXECUTE FUNCTION trg_f();\n\
CREATE TRIGGER c_trg AFTER INSERT ON trg_t FOR EACH ROW EXECUTE FUNCTION trg_f();\n\
ALTER TABLE trg_t DISABLE TRIGGER c_trg;\n\
\\d trg_t\n\
SELECT tgname, tgtype, tgenabled, tgattr FROM pg_trigger ORDER BY 1;\n\
SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'b_trg';\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_shows_triggers_as_postgres() -> HarnessResult<()> {
    let reference = ReferencePostgres::start().await?;
    let server = CustosServer::start().await?;
    let mut outputs = Vec::new();
    for endpoint in [reference.endpoint(), server.endpoint()] {
        let endpoint = endpoint.clone();
        let output = tokio::task::block_in_place(|| {
            endpoint.psql(&["-v", "ON_ERROR_STOP=1"], Some(PSQL_TRIGGERS))
        })?;
        outputs.push(format!("{}{}", output.stdout, output.stderr));
    }
    ensure(outputs[0] == outputs[1], || {
        format!(
            "psql differs.\n--- PostgreSQL 15:\n{}\n--- custos:\n{}",
            outputs[0], outputs[1]
        )
    })?;
    ensure(outputs[1].contains("Disabled user triggers:"), || {
        outputs[1].clone()
    })
}
