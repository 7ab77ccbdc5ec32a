//! Dynamic masking and tokenization (issue 6, points 4 and 5), end to end against the real
//! binary. PostgreSQL 15 has no `anon` provider, so outcomes are stated, not compared.
//!
//! - `custos_masked_role_sees_masks_on_every_read_path`: a role inheriting from a MASKED
//!   role sees the masks through SELECT, WHERE, JOIN, ORDER BY, GROUP BY, aggregates,
//!   COPY TO, a cursor, prepared statements (prepared before SET ROLE too), vector search
//!   (still through the HNSW index) and `rag_context`; the embedding generated from a
//!   masked column is NULL to it; the owner sees raw values (governance.md §9 cases 13, 14).
//!   Needs the embedding model (`scripts/fetch-models`).
//! - `custos_security_label_checks_and_catalog`: SECURITY LABEL's errors (provider,
//!   grammar, types, ownership, missing objects), `pg_seclabel`, removal with `IS NULL`,
//!   and masks surviving a restart.
//! - `custos_tokenized_columns_store_tokens`: card numbers and e-mails tokenized on INSERT,
//!   COPY and UPDATE (format preserving, last four kept, Luhn failing; deterministic, so
//!   joins work), tokens on disk after a restart, `detokenize` denied without EXECUTE
//!   (42501) and allowed with it, key rotation, and a server without a key file refusing
//!   to store clear text (§9 cases 16, 17).

use custos_tests::error::ensure;
use custos_tests::locate::model_dir;
use custos_tests::{CustosServer, HarnessError, HarnessResult, ServerOptions};
use tokio_postgres::{Client, SimpleQueryMessage};

/// Rows of a simple query, values joined by `|`, rows by `;` (NULL as `NULL`).
async fn rows(client: &Client, sql: &str) -> HarnessResult<String> {
    let messages = client
        .simple_query(sql)
        .await
        .map_err(|e| HarnessError::new(format!("{sql}: {e}")))?;
    let mut out = Vec::new();
    for m in messages {
        if let SimpleQueryMessage::Row(row) = m {
            let values: Vec<String> = (0..row.len())
                .map(|i| row.get(i).unwrap_or("NULL").to_string())
                .collect();
            out.push(values.join("|"));
        }
    }
    Ok(out.join(";"))
}

async fn expect(client: &Client, sql: &str, want: &str) -> HarnessResult<()> {
    let got = rows(client, sql).await?;
    ensure(got == want, || {
        format!("`{sql}`\n  want: {want}\n  got:  {got}")
    })
}

/// The SQLSTATE and message of a statement that must fail.
async fn error(client: &Client, sql: &str) -> HarnessResult<(String, String)> {
    match client.simple_query(sql).await {
        Ok(_) => Err(HarnessError::new(format!("expected an error from: {sql}"))),
        Err(e) => {
            let db = e
                .as_db_error()
                .ok_or_else(|| HarnessError::new(format!("{sql}: not a server error: {e}")))?;
            Ok((db.code().code().to_string(), db.message().to_string()))
        }
    }
}

async fn expect_error(client: &Client, sql: &str, code: &str, message: &str) -> HarnessResult<()> {
    let (c, m) = error(client, sql).await?;
    ensure(c == code && m == message, || {
        format!("`{sql}`\n  want: {code} {message}\n  got:  {c} {m}")
    })
}

const CUSTOMERS: &str = "
CREATE TABLE customers (id int PRIMARY KEY, name text, email text, phone text, city text,
    salary int, notes text,
    notes_vec vector(384) GENERATED ALWAYS AS (embed(notes)) STORED);
CREATE INDEX customers_notes_idx ON customers USING hnsw (notes_vec vector_cosine_ops);
INSERT INTO customers (id, name, email, phone, city, salary, notes) VALUES
    (1, 'Alice Martin', 'alice@example.com', '0601020304', 'Lyon', 5200,
     'My card was charged twice for the same order'),
    (2, 'Bruno Costa', 'bruno@corp.io', '0611223344', 'Porto', 4100,
     'The espresso machine leaks water onto the counter'),
    (3, 'Chloe Dubois', 'chloe@mail.fr', '0699887766', 'Lyon', 6100,
     'Duplicate payment on my credit card');
CREATE TABLE orders (id int PRIMARY KEY, customer_email text, amount int);
INSERT INTO orders VALUES (10, 'alice@example.com', 30), (11, 'chloe@mail.fr', 45);
CREATE ROLE masked_readers NOLOGIN;
CREATE ROLE analyst LOGIN PASSWORD 'analyst-pw';
GRANT masked_readers TO analyst;
GRANT SELECT ON customers, orders TO masked_readers;
GRANT UPDATE ON customers TO masked_readers;
SECURITY LABEL FOR anon ON ROLE masked_readers IS 'MASKED';
SECURITY LABEL FOR anon ON COLUMN customers.email IS 'MASKED WITH FUNCTION anon.partial_email(email)';
SECURITY LABEL FOR anon ON COLUMN customers.phone
    IS 'MASKED WITH FUNCTION anon.partial(phone, 2, $$******$$, 2)';
SECURITY LABEL FOR anon ON COLUMN customers.salary IS 'MASKED WITH VALUE NULL';
SECURITY LABEL FOR anon ON COLUMN customers.name IS 'MASKED WITH VALUE $$CONFIDENTIAL$$';
SECURITY LABEL FOR anon ON COLUMN customers.notes IS 'MASKED WITH VALUE $$[redacted]$$';
SECURITY LABEL FOR anon ON COLUMN customers.city IS 'NOT MASKED';
";

const MASKED_ROWS: &str = "1|CONFIDENTIAL|al******@ex******.com|06******04|Lyon|NULL;\
2|CONFIDENTIAL|br******@co******.io|06******44|Porto|NULL;\
3|CONFIDENTIAL|ch******@ma******.fr|06******66|Lyon|NULL";

const QUESTION: &str = "I was billed two times for one purchase";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_masked_role_sees_masks_on_every_read_path() -> HarnessResult<()> {
    let server = CustosServer::start_with(ServerOptions {
        args: vec!["--model-dir".into(), model_dir()?.display().to_string()],
        env: Vec::new(),
    })
    .await?;
    let client = server.endpoint().connect().await?;
    client.batch_execute(CUSTOMERS).await?;
    let select = "SELECT id, name, email, phone, city, salary FROM customers ORDER BY id";
    // The owner (a superuser) sees raw values; what ranking gives, for comparison.
    expect(
        &client,
        "SELECT email, salary FROM customers WHERE id = 1",
        "alice@example.com|5200",
    )
    .await?;
    let search = format!(
        "SELECT id, notes_vec IS NULL FROM customers ORDER BY notes_vec <=> embed('{QUESTION}') LIMIT 2"
    );
    let raw_ranking = rows(&client, &search).await?;
    ensure(raw_ranking == "1|f;3|f", || {
        format!("raw ranking {raw_ranking}")
    })?;
    let raw_rag = rows(
        &client,
        &format!("SELECT row_key, content FROM rag_context('{QUESTION}', 2) ORDER BY rank"),
    )
    .await?;
    // Prepared by the owner, executed after SET ROLE: the masks of the role that executes.
    let prepared = client
        .prepare("SELECT email FROM customers WHERE id = $1")
        .await?;

    client.batch_execute("SET ROLE analyst").await?;
    expect(&client, select, MASKED_ROWS).await?;
    let masked_email: String = client.query_one(&prepared, &[&1i32]).await?.get(0);
    ensure(masked_email == "al******@ex******.com", || {
        format!("prepared before SET ROLE gave {masked_email}")
    })?;
    // Prepared by the masked role, executed after RESET ROLE: the owner's raw values.
    let prepared_masked = client
        .prepare("SELECT email, salary FROM customers WHERE id = $1")
        .await?;
    let row = client.query_one(&prepared_masked, &[&3i32]).await?;
    let (email, salary): (String, Option<i32>) = (row.get(0), row.get(1));
    ensure(email == "ch******@ma******.fr" && salary.is_none(), || {
        format!("prepared by the masked role: {email} {salary:?}")
    })?;
    // WHERE, LIKE and comparisons operate on the masked value (no binary-search inference).
    expect(
        &client,
        "SELECT count(*) FROM customers WHERE email = 'alice@example.com'",
        "0",
    )
    .await?;
    expect(
        &client,
        "SELECT id FROM customers WHERE email LIKE 'al%@ex%' ORDER BY id",
        "1",
    )
    .await?;
    expect(
        &client,
        "SELECT count(*) FROM customers WHERE salary > 1000",
        "0",
    )
    .await?;
    // Writing would find and return raw rows: a masked role is read-only on masked tables.
    expect_error(
        &client,
        "UPDATE customers SET city = city WHERE email = 'alice@example.com' RETURNING email",
        "42501",
        "permission denied for table customers",
    )
    .await?;
    expect(
        &client,
        "SELECT count(*) FROM customers WHERE phone LIKE '0601%'",
        "0",
    )
    .await?;
    // JOIN on a masked column matches masked values only.
    expect(
        &client,
        "SELECT count(*) FROM orders o JOIN customers c ON c.email = o.customer_email",
        "0",
    )
    .await?;
    expect(
        &client,
        "SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.id - 9 ORDER BY o.id",
        "10|al******@ex******.com;11|br******@co******.io",
    )
    .await?;
    // ORDER BY, GROUP BY, aggregates, subqueries and CTEs.
    expect(
        &client,
        "SELECT name, count(*), max(salary) FROM customers GROUP BY name",
        "CONFIDENTIAL|3|NULL",
    )
    .await?;
    expect(
        &client,
        "SELECT min(email), max(phone) FROM customers",
        "al******@ex******.com|06******66",
    )
    .await?;
    expect(
        &client,
        "SELECT city, count(*) FROM customers GROUP BY city ORDER BY city",
        "Lyon|2;Porto|1",
    )
    .await?;
    expect(
        &client,
        "WITH c AS (SELECT email FROM customers) SELECT email FROM c ORDER BY email DESC LIMIT 1",
        "ch******@ma******.fr",
    )
    .await?;
    expect(
        &client,
        "SELECT (SELECT email FROM customers WHERE id = 2)",
        "br******@co******.io",
    )
    .await?;
    // A cursor (a portal fetched two rows at a time).
    {
        let mut client = server.endpoint().connect().await?;
        client.batch_execute("SET ROLE analyst").await?;
        let tx = client.transaction().await?;
        let statement = tx
            .prepare("SELECT email FROM customers ORDER BY id")
            .await?;
        let portal = tx.bind(&statement, &[]).await?;
        let first: Vec<String> = tx
            .query_portal(&portal, 2)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ensure(
            first == ["al******@ex******.com", "br******@co******.io"],
            || format!("cursor rows: {first:?}"),
        )?;
        tx.commit().await?;
    }
    // The embedding of a masked column: NULL, unreadable; ranking by it still works, through
    // the index, and returns masked rows.
    expect(
        &client,
        "SELECT count(*) FROM customers WHERE notes_vec IS NOT NULL",
        "0",
    )
    .await?;
    let masked_ranking = rows(&client, &search).await?;
    ensure(masked_ranking == "1|t;3|t", || {
        format!("masked ranking {masked_ranking}, raw {raw_ranking}")
    })?;
    let plan = rows(&client, &format!("EXPLAIN {search}")).await?;
    ensure(plan.contains("customers_notes_idx"), || {
        format!("the masked role's search does not use the index: {plan}")
    })?;
    expect(
        &client,
        &format!("SELECT notes FROM customers ORDER BY notes_vec <=> embed('{QUESTION}') LIMIT 1"),
        "[redacted]",
    )
    .await?;
    // rag_context: the same rows, masked content.
    let masked_rag = rows(
        &client,
        &format!("SELECT row_key, content FROM rag_context('{QUESTION}', 2) ORDER BY rank"),
    )
    .await?;
    ensure(
        masked_rag == "1|[redacted];3|[redacted]" && raw_rag.starts_with("1|My card"),
        || format!("rag_context: masked {masked_rag}, raw {raw_rag}"),
    )?;
    // COPY TO (psql, as the masked role).
    let copy = server.endpoint().psql(
        &["-v", "ON_ERROR_STOP=1"],
        Some("SET ROLE analyst;\nCOPY customers (id, email, salary) TO STDOUT;\n"),
    )?;
    ensure(
        copy.success()
            && copy.stdout.contains("1\tal******@ex******.com\t\\N")
            && !copy.stdout.contains("alice@example.com"),
        || {
            format!(
                "COPY TO as the masked role: {} {}",
                copy.stdout, copy.stderr
            )
        },
    )?;
    // Back to the owner: raw values again.
    client.batch_execute("RESET ROLE").await?;
    expect(
        &client,
        "SELECT email FROM customers WHERE id = 1",
        "alice@example.com",
    )
    .await?;
    let row = client.query_one(&prepared_masked, &[&3i32]).await?;
    let (email, salary): (String, Option<i32>) = (row.get(0), row.get(1));
    ensure(email == "chloe@mail.fr" && salary == Some(6100), || {
        format!("prepared by the masked role, run by the owner: {email} {salary:?}")
    })?;
    // The masked role logging in directly.
    let analyst = custos_tests::Endpoint {
        user: "analyst".into(),
        password: "analyst-pw".into(),
        ..server.endpoint().clone()
    }
    .connect()
    .await?;
    expect(&analyst, select, MASKED_ROWS).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_security_label_checks_and_catalog() -> HarnessResult<()> {
    let mut server = CustosServer::start().await?;
    {
        let client = server.endpoint().connect().await?;
        client
            .batch_execute(
                "CREATE TABLE people (id int PRIMARY KEY, email text, born date, score int);
                 INSERT INTO people VALUES (1, 'daamien@gmail.com', '1987-06-05', 42);
                 CREATE ROLE outsider LOGIN;
                 CREATE ROLE viewer LOGIN;
                 GRANT SELECT ON people TO outsider, viewer;",
            )
            .await?;
        let label = |s: &str| format!("SECURITY LABEL FOR anon ON COLUMN people.email IS '{s}'");
        expect_error(
            &client,
            "SECURITY LABEL FOR selinux ON TABLE people IS 'x'",
            "22023",
            "security label provider \"selinux\" is not loaded",
        )
        .await?;
        expect_error(
            &client,
            "SECURITY LABEL ON TABLE people IS 'x'",
            "22023",
            "must specify provider when multiple security label providers have been loaded",
        )
        .await?;
        expect_error(
            &client,
            &label("MASKED WITH MAGIC"),
            "22023",
            "'MASKED WITH MAGIC' is not a valid label for a column",
        )
        .await?;
        expect_error(
            &client,
            "SECURITY LABEL FOR anon ON ROLE viewer IS 'UNMASKED'",
            "22023",
            "'UNMASKED' is not a valid label for a role",
        )
        .await?;
        let (code, _) = error(
            &client,
            &label("MASKED WITH FUNCTION anon.partial_email(nope)"),
        )
        .await?;
        ensure(code == "42703", || {
            format!("unknown column in a mask: {code}")
        })?;
        let (code, message) = error(
            &client,
            "SECURITY LABEL FOR anon ON COLUMN people.score IS 'MASKED WITH VALUE now()'",
        )
        .await?;
        ensure(code == "42804", || {
            format!("mask of the wrong type: {code} {message}")
        })?;
        expect_error(
            &client,
            "SECURITY LABEL FOR anon ON COLUMN people.nope IS 'NOT MASKED'",
            "42703",
            "column \"nope\" of relation \"people\" does not exist",
        )
        .await?;
        expect_error(
            &client,
            "SECURITY LABEL FOR anon ON TABLE nope IS 'x'",
            "42P01",
            "relation \"nope\" does not exist",
        )
        .await?;
        expect_error(
            &client,
            "SECURITY LABEL FOR anon ON ROLE nope IS 'MASKED'",
            "42704",
            "role \"nope\" does not exist",
        )
        .await?;
        let (code, _) = error(&client, "SECURITY LABEL FOR anon ON COLUMN people IS 'x'").await?;
        ensure(code == "42601", || format!("unqualified column: {code}"))?;
        // Ownership: only the owner (or a superuser) labels a table; CREATEROLE for roles.
        client.batch_execute("SET ROLE outsider").await?;
        expect_error(
            &client,
            &label("NOT MASKED"),
            "42501",
            "must be owner of table people",
        )
        .await?;
        expect_error(
            &client,
            "SECURITY LABEL FOR anon ON ROLE outsider IS 'MASKED'",
            "42501",
            "must have CREATEROLE privilege",
        )
        .await?;
        client.batch_execute("RESET ROLE").await?;
        client
            .batch_execute(&format!(
                "{}; SECURITY LABEL FOR anon ON COLUMN people.born \
                 IS 'MASKED WITH VALUE ''1900-01-01'''; \
                 SECURITY LABEL FOR anon ON COLUMN people.score IS 'MASKED WITH VALUE 0'; \
                 SECURITY LABEL FOR anon ON ROLE viewer IS 'MASKED'; \
                 SECURITY LABEL FOR anon ON ROLE outsider IS 'MASKED'; \
                 SECURITY LABEL FOR anon ON ROLE outsider IS NULL",
                label("MASKED WITH FUNCTION anon.partial_email(email)")
            ))
            .await
            .map_err(|e| HarnessError::new(format!("labels: {e}")))?;
        expect(
            &client,
            "SELECT objsubid, provider, label FROM pg_seclabel \
             WHERE objoid = 'people'::regclass ORDER BY objsubid",
            "2|anon|MASKED WITH FUNCTION anon.partial_email(email);\
             3|anon|MASKED WITH VALUE '1900-01-01';\
             4|anon|MASKED WITH VALUE 0",
        )
        .await?;
        expect(
            &client,
            "SELECT count(*) FROM pg_seclabel WHERE classoid = 'pg_authid'::regclass",
            "0",
        )
        .await?;
        expect(
            &client,
            "SELECT objtype, objname, provider, label FROM pg_seclabels ORDER BY objtype, objname",
            "column|people.born|anon|MASKED WITH VALUE '1900-01-01';\
             column|people.email|anon|MASKED WITH FUNCTION anon.partial_email(email);\
             column|people.score|anon|MASKED WITH VALUE 0;\
             role|viewer|anon|MASKED",
        )
        .await?;
    }
    // Labels are in the catalog: they survive a crash.
    tokio::task::block_in_place(|| server.kill9());
    server.start_again().await?;
    let client = server.endpoint().connect().await?;
    expect(
        &client,
        "SELECT count(*) FROM pg_seclabel WHERE provider = 'anon'",
        "3",
    )
    .await?;
    client.batch_execute("SET ROLE viewer").await?;
    expect(
        &client,
        "SELECT email, score FROM people",
        "da******@gm******.com|0",
    )
    .await?;
    client
        .batch_execute("RESET ROLE; SET ROLE outsider")
        .await?;
    expect(
        &client,
        "SELECT email, score FROM people",
        "daamien@gmail.com|42",
    )
    .await?;
    client.batch_execute("RESET ROLE").await?;
    // Removing the rule unmasks the column.
    client
        .batch_execute("SECURITY LABEL FOR anon ON COLUMN people.email IS NULL; SET ROLE viewer")
        .await?;
    expect(
        &client,
        "SELECT email, score FROM people",
        "daamien@gmail.com|0",
    )
    .await?;
    Ok(())
}

const KEY_V1: &str = "* 1 6b8a3f0c1d2e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdde\n";

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap_or(0);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_tokenized_columns_store_tokens() -> HarnessResult<()> {
    let keys = tempfile::tempdir()?;
    let key_file = keys.path().join("token.keys");
    std::fs::write(&key_file, KEY_V1)?;
    let mut server = CustosServer::start_with(ServerOptions {
        args: Vec::new(),
        env: vec![(
            "CUSTOS_TOKEN_KEY_FILE".into(),
            key_file.display().to_string(),
        )],
    })
    .await?;
    let card = "4111111111111111";
    let other_card = "5555555555554444";
    {
        let client = server.endpoint().connect().await?;
        client
            .batch_execute(
                "CREATE TABLE payments (id int PRIMARY KEY, pan text, email text, amount int);
                 CREATE TABLE contacts (email text, name text);
                 SECURITY LABEL FOR custos ON COLUMN payments.pan IS 'TOKENIZE WITH DOMAIN pan';
                 SECURITY LABEL FOR custos ON COLUMN payments.email IS 'TOKENIZE WITH DOMAIN email';
                 SECURITY LABEL FOR custos ON COLUMN contacts.email IS 'TOKENIZE WITH DOMAIN email';
                 CREATE ROLE clerk LOGIN; CREATE ROLE pci LOGIN;
                 GRANT SELECT ON payments TO clerk, pci;",
            )
            .await?;
        expect_error(
            &client,
            "SECURITY LABEL FOR custos ON COLUMN payments.amount IS 'TOKENIZE WITH DOMAIN pan'",
            "42804",
            "tokenized column \"amount\" must be of type text or varchar, not integer",
        )
        .await?;
        client
            .batch_execute(&format!(
                "INSERT INTO payments VALUES (1, '{card}', 'alice@example.com', 30);
                 INSERT INTO contacts VALUES ('alice@example.com', 'Alice');"
            ))
            .await?;
        let copy = server.endpoint().psql(
            &["-v", "ON_ERROR_STOP=1"],
            Some(&format!(
                "COPY payments FROM STDIN;\n2\t{other_card}\tbob@example.com\t12\n\\.\n"
            )),
        )?;
        ensure(copy.success(), || format!("COPY FROM: {}", copy.stderr))?;
        expect_error(
            &client,
            "INSERT INTO payments VALUES (3, '4111-1111-1111', 'x@y.z', 1)",
            "22P02",
            "value for token domain \"pan\" is not a valid card number",
        )
        .await?;
        let stored = rows(&client, "SELECT pan, email FROM payments ORDER BY id").await?;
        for (row, clear) in stored.split(';').zip([card, other_card]) {
            let token = row.split('|').next().unwrap_or("");
            ensure(
                token.len() == clear.len()
                    && token.ends_with(&clear[clear.len() - 4..])
                    && token != clear
                    && token.chars().all(|c| c.is_ascii_digit())
                    && !luhn_valid(token),
                || format!("card {clear} stored as {token}"),
            )?;
        }
        ensure(!stored.contains("example.com"), || {
            format!("e-mails in clear: {stored}")
        })?;
        // Deterministic tokens: the e-mail joins across tables of the same domain.
        expect(
            &client,
            "SELECT c.name, p.id FROM contacts c JOIN payments p ON p.email = c.email",
            "Alice|1",
        )
        .await?;
        // Labelling a column of a table with rows tokenizes them.
        client
            .batch_execute(&format!(
                "CREATE TABLE legacy (id int, pan text); INSERT INTO legacy VALUES (1, '{card}');
                 SECURITY LABEL FOR custos ON COLUMN legacy.pan IS 'TOKENIZE WITH DOMAIN pan'"
            ))
            .await?;
        expect(
            &client,
            "SELECT l.pan = p.pan FROM legacy l JOIN payments p ON p.id = l.id",
            "t",
        )
        .await?;
        // UPDATE tokenizes the new value and leaves tokens alone.
        client
            .batch_execute(&format!(
                "UPDATE payments SET amount = amount + 1; UPDATE payments SET pan = '{card}' WHERE id = 2"
            ))
            .await?;
        expect(
            &client,
            "SELECT count(DISTINCT pan), count(*) FROM payments",
            "1|2",
        )
        .await?;
        // detokenize: denied without EXECUTE, allowed with it.
        client.batch_execute("SET ROLE clerk").await?;
        expect_error(
            &client,
            "SELECT detokenize(pan) FROM payments",
            "42501",
            "permission denied for function detokenize",
        )
        .await?;
        client
            .batch_execute(
                "RESET ROLE; GRANT EXECUTE ON FUNCTION detokenize(text) TO pci; SET ROLE pci",
            )
            .await?;
        expect(
            &client,
            "SELECT detokenize(pan), detokenize(email) FROM payments WHERE id = 1",
            &format!("{card}|alice@example.com"),
        )
        .await?;
        expect(
            &client,
            "SELECT detokenize(pan, 'pan') FROM payments WHERE id = 2",
            card,
        )
        .await?;
        client.batch_execute("RESET ROLE; SET ROLE clerk").await?;
        let (code, _) = error(&client, "SELECT custos_rotate_token_key('pan')").await?;
        ensure(code == "42501", || format!("rotation by a clerk: {code}"))?;
        // Rotation: new tokens use version 2, old ones still detokenize.
        client.batch_execute("RESET ROLE").await?;
        expect(&client, "SELECT custos_rotate_token_key('pan')", "2").await?;
        client
            .batch_execute(&format!(
                "INSERT INTO payments VALUES (3, '{card}', 'carol@example.com', 5)"
            ))
            .await?;
        expect(
            &client,
            "SELECT count(DISTINCT pan), count(DISTINCT detokenize(pan)) FROM payments",
            "2|1",
        )
        .await?;
    }
    // Tokens are what is stored: a crash and restart shows tokens, which still detokenize.
    tokio::task::block_in_place(|| server.kill9());
    server.start_again().await?;
    let client = server.endpoint().connect().await?;
    let after = rows(&client, "SELECT pan FROM payments WHERE id = 1").await?;
    ensure(after != card && !luhn_valid(&after), || {
        format!("after restart: {after}")
    })?;
    expect(
        &client,
        "SELECT detokenize(pan) FROM payments WHERE id = 1",
        card,
    )
    .await?;
    // Without a key file, a tokenized column refuses writes instead of storing clear text.
    let bare = CustosServer::start().await?;
    let bare_client = bare.endpoint().connect().await?;
    bare_client
        .batch_execute(
            "CREATE TABLE cards (pan text);
             SECURITY LABEL FOR custos ON COLUMN cards.pan IS 'TOKENIZE WITH DOMAIN pan'",
        )
        .await?;
    let (code, message) = error(
        &bare_client,
        &format!("INSERT INTO cards VALUES ('{card}')"),
    )
    .await?;
    ensure(
        code == "55000" && message.contains("no token key file"),
        || format!("without a key file: {code} {message}"),
    )?;
    expect(&bare_client, "SELECT count(*) FROM cards", "0").await?;
    Ok(())
}
