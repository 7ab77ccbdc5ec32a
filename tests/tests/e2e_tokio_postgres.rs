//! tokio-postgres against the server (issue 3): simple and extended query protocols, binary
//! parameters of each type, prepared statement descriptions, portals with a row limit,
//! SQLSTATEs, transactions, cancellation, notices, authentication failures.
//!
//! Every check runs twice (see `custos_tests::server_tests!`): `reference::<check>` on
//! PostgreSQL 15, `custos::<check>` on custos.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use custos_tests::error::ensure;
use custos_tests::{server_tests, Endpoint, HarnessError, HarnessResult};
use tokio_postgres::types::Type;
use tokio_postgres::{NoTls, SimpleQueryMessage};

server_tests!(
    simple_query_runs_multiple_statements,
    extended_query_binary_parameters_of_each_type,
    extended_query_null_parameters,
    prepared_statement_describes_parameters_and_columns,
    portal_returns_rows_in_chunks_of_max_rows,
    errors_carry_sqlstate_and_connection_survives,
    transaction_commit_rollback_and_aborted_state,
    cancel_request_interrupts_pg_sleep,
    notice_is_delivered_for_drop_if_exists,
    large_result_is_streamed,
    concurrent_connections_work_independently,
    wrong_password_is_rejected_with_28p01,
    unknown_database_is_rejected_with_3d000,
);

/// The SQLSTATE of a tokio-postgres error, or a description of a non-database error.
fn sqlstate(error: &tokio_postgres::Error) -> String {
    error
        .code()
        .map(|code| code.code().to_string())
        .unwrap_or_else(|| format!("(no SQLSTATE: {error})"))
}

async fn simple_query_runs_multiple_statements(endpoint: &Endpoint) -> HarnessResult<()> {
    let client = endpoint.connect().await?;
    let messages = client
        .simple_query(
            "CREATE TABLE multi (id int PRIMARY KEY, label text);\
             INSERT INTO multi VALUES (1, 'one'), (2, NULL), (3, 'three');\
             SELECT id, label FROM multi ORDER BY id;\
             UPDATE multi SET label = 'two' WHERE id = 2;\
             SELECT count(*) AS n FROM multi WHERE label IS NOT NULL;\
             DROP TABLE multi",
        )
        .await?;
    let mut completions = Vec::new();
    let mut rows = Vec::new();
    for message in &messages {
        match message {
            SimpleQueryMessage::CommandComplete(count) => completions.push(*count),
            SimpleQueryMessage::Row(row) => rows.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect::<Vec<_>>(),
            ),
            _ => {}
        }
    }
    ensure(completions == vec![0, 3, 3, 1, 1, 0], || {
        format!("command completions {completions:?}")
    })?;
    let expected: Vec<Vec<Option<String>>> = vec![
        vec![Some("1".into()), Some("one".into())],
        vec![Some("2".into()), None],
        vec![Some("3".into()), Some("three".into())],
        vec![Some("3".into())],
    ];
    ensure(rows == expected, || format!("rows {rows:?}"))
}

async fn extended_query_binary_parameters_of_each_type(endpoint: &Endpoint) -> HarnessResult<()> {
    let client = endpoint.connect().await?;
    client
        .batch_execute(
            "CREATE TABLE typed (c_i2 smallint, c_i4 integer, c_i8 bigint, c_f4 real, \
             c_f8 double precision, c_text text, c_varchar varchar(20), c_bool boolean, \
             c_bytea bytea, c_date date, c_ts timestamp, c_tstz timestamptz, c_jsonb jsonb, \
             c_json json, c_ints integer[], c_texts text[])",
        )
        .await?;
    let date = NaiveDate::from_ymd_opt(2021, 8, 19).ok_or_else(|| HarnessError::new("date"))?;
    let timestamp: NaiveDateTime = date
        .and_hms_micro_opt(14, 37, 52, 123_456)
        .ok_or_else(|| HarnessError::new("timestamp"))?;
    let timestamptz: DateTime<Utc> = Utc
        .with_ymd_and_hms(2023, 6, 1, 12, 15, 36)
        .single()
        .ok_or_else(|| HarnessError::new("timestamptz"))?;
    let jsonb = serde_json::json!({"b": [1, 2.5, null], "a": "x"});
    let bytes: Vec<u8> = vec![0, 1, 2, 0x7f, 0x80, 0xff];
    let ints: Vec<i32> = vec![1, -2, 3];
    let texts: Vec<String> = vec!["a".into(), "b c".into(), "".into()];
    let inserted = client
        .execute(
            "INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16)",
            &[
                &-32768i16,
                &2_147_483_647i32,
                &-9_223_372_036_854_775_808i64,
                &1.5f32,
                &-0.1f64,
                &"text ✓ with 'quote'".to_string(),
                &"varchar",
                &true,
                &bytes,
                &date,
                &timestamp,
                &timestamptz,
                &jsonb,
                &jsonb,
                &ints,
                &texts,
            ],
        )
        .await?;
    ensure(inserted == 1, || format!("inserted {inserted} rows"))?;
    let row = client
        .query_one(
            "SELECT * FROM typed WHERE c_i4 = $1 AND c_text LIKE $2",
            &[&2_147_483_647i32, &"text%"],
        )
        .await?;
    ensure(row.get::<_, i16>("c_i2") == -32768, || "smallint".into())?;
    ensure(row.get::<_, i32>("c_i4") == 2_147_483_647, || {
        "integer".into()
    })?;
    ensure(row.get::<_, i64>("c_i8") == i64::MIN, || "bigint".into())?;
    ensure(row.get::<_, f32>("c_f4") == 1.5, || "real".into())?;
    ensure(row.get::<_, f64>("c_f8") == -0.1, || {
        "double precision".into()
    })?;
    ensure(
        row.get::<_, String>("c_text") == "text ✓ with 'quote'",
        || "text".into(),
    )?;
    ensure(row.get::<_, &str>("c_varchar") == "varchar", || {
        "varchar".into()
    })?;
    ensure(row.get::<_, bool>("c_bool"), || "boolean".into())?;
    ensure(row.get::<_, Vec<u8>>("c_bytea") == bytes, || "bytea".into())?;
    ensure(row.get::<_, NaiveDate>("c_date") == date, || "date".into())?;
    ensure(row.get::<_, NaiveDateTime>("c_ts") == timestamp, || {
        "timestamp".into()
    })?;
    ensure(row.get::<_, DateTime<Utc>>("c_tstz") == timestamptz, || {
        "timestamptz".into()
    })?;
    ensure(row.get::<_, serde_json::Value>("c_jsonb") == jsonb, || {
        "jsonb".into()
    })?;
    ensure(row.get::<_, serde_json::Value>("c_json") == jsonb, || {
        "json".into()
    })?;
    ensure(row.get::<_, Vec<i32>>("c_ints") == ints, || {
        "integer[]".into()
    })?;
    ensure(row.get::<_, Vec<String>>("c_texts") == texts, || {
        "text[]".into()
    })?;
    // The text forms the server derives from the binary input.
    let text_row = client
        .simple_query(
            "SELECT c_f4, c_f8, c_bytea, c_ts, c_tstz, c_jsonb, c_ints, c_texts FROM typed",
        )
        .await?;
    let values: Vec<Option<String>> = text_row
        .iter()
        .find_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .ok_or_else(|| HarnessError::new("no row in text form"))?;
    let expected: Vec<Option<String>> = [
        "1.5",
        "-0.1",
        "\\x0001027f80ff",
        "2021-08-19 14:37:52.123456",
        "2023-06-01 12:15:36+00",
        "{\"a\": \"x\", \"b\": [1, 2.5, null]}",
        "{1,-2,3}",
        "{a,\"b c\",\"\"}",
    ]
    .iter()
    .map(|v| Some(v.to_string()))
    .collect();
    ensure(values == expected, || format!("text forms {values:?}"))?;
    client.batch_execute("DROP TABLE typed").await?;
    Ok(())
}

async fn extended_query_null_parameters(endpoint: &Endpoint) -> HarnessResult<()> {
    let client = endpoint.connect().await?;
    let row = client
        .query_one(
            "SELECT $1::int4 IS NULL, $2::text IS NULL, coalesce($3::int8, -1), $4::bool",
            &[&None::<i32>, &None::<String>, &None::<i64>, &None::<bool>],
        )
        .await?;
    ensure(row.get::<_, bool>(0) && row.get::<_, bool>(1), || {
        "NULL parameters".into()
    })?;
    ensure(row.get::<_, i64>(2) == -1, || "coalesce of NULL".into())?;
    ensure(row.get::<_, Option<bool>>(3).is_none(), || {
        "NULL result".into()
    })
}

async fn prepared_statement_describes_parameters_and_columns(
    endpoint: &Endpoint,
) -> HarnessResult<()> {
    let client = endpoint.connect().await?;
    let statement = client
        .prepare("SELECT $1::int4 + 1 AS next, upper($2::text) AS shout, $3::numeric AS n, now() IS NOT NULL AS t")
        .await?;
    let parameters: Vec<Type> = statement.params().to_vec();
    ensure(
        parameters == vec![Type::INT4, Type::TEXT, Type::NUMERIC],
        || format!("parameter types {parameters:?}"),
    )?;
    let columns: Vec<(String, Type)> = statement
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().clone()))
        .collect();
    let expected = vec![
        ("next".to_string(), Type::INT4),
        ("shout".to_string(), Type::TEXT),
        ("n".to_string(), Type::NUMERIC),
        ("t".to_string(), Type::BOOL),
    ];
    ensure(columns == expected, || format!("columns {columns:?}"))?;
    // Inferred parameter types: $1 compared with an integer column, $2 with text.
    let inferred = client
        .prepare("SELECT x FROM (VALUES (1, 'a')) AS v(x, y) WHERE x = $1 AND y = $2")
        .await?;
    ensure(inferred.params() == [Type::INT4, Type::TEXT], || {
        format!("inferred parameter types {:?}", inferred.params())
    })?;
    // One prepared statement executed several times.
    let text_statement = client.prepare("SELECT $1::int4 * 2").await?;
    for i in 0..5i32 {
        let doubled: i32 = client.query_one(&text_statement, &[&i]).await?.get(0);
        ensure(doubled == i * 2, || format!("{i} * 2 = {doubled}"))?;
    }
    Ok(())
}

async fn portal_returns_rows_in_chunks_of_max_rows(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut client = endpoint.connect().await?;
    let transaction = client.transaction().await?;
    let statement = transaction
        .prepare("SELECT g, g * g FROM generate_series(1, $1::int4) AS g ORDER BY g")
        .await?;
    let portal = transaction.bind(&statement, &[&10i32]).await?;
    let mut chunks = Vec::new();
    loop {
        let rows = transaction.query_portal(&portal, 3).await?;
        if rows.is_empty() {
            break;
        }
        chunks.push(rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>());
        if chunks.len() > 10 {
            return Err(HarnessError::new("portal never ends"));
        }
    }
    let expected = vec![vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9], vec![10]];
    ensure(chunks == expected, || format!("chunks {chunks:?}"))?;
    transaction.commit().await?;
    Ok(())
}

async fn errors_carry_sqlstate_and_connection_survives(endpoint: &Endpoint) -> HarnessResult<()> {
    let client = endpoint.connect().await?;
    let cases = [
        ("SELECT 1 / 0", "22012"),
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM (SELECT 1 AS a) s", "42703"),
        ("SELECT 'x'::int", "22P02"),
        ("SELEC 1", "42601"),
    ];
    for (sql, expected) in cases {
        let error = match client.simple_query(sql).await {
            Ok(_) => return Err(HarnessError::new(format!("{sql} succeeded"))),
            Err(error) => error,
        };
        ensure(sqlstate(&error) == expected, || {
            format!("{sql}: expected {expected}, got {}", sqlstate(&error))
        })?;
        // The same through the extended protocol.
        let error = match client.query(sql, &[]).await {
            Ok(_) => return Err(HarnessError::new(format!("{sql} succeeded (extended)"))),
            Err(error) => error,
        };
        ensure(sqlstate(&error) == expected, || {
            format!(
                "{sql} (extended): expected {expected}, got {}",
                sqlstate(&error)
            )
        })?;
    }
    let one: i32 = client.query_one("SELECT 1", &[]).await?.get(0);
    ensure(one == 1, || "connection unusable after errors".into())
}

async fn transaction_commit_rollback_and_aborted_state(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut client = endpoint.connect().await?;
    client
        .batch_execute("CREATE TABLE tx (id int PRIMARY KEY)")
        .await?;
    let transaction = client.transaction().await?;
    transaction
        .execute("INSERT INTO tx VALUES (1), (2)", &[])
        .await?;
    transaction.rollback().await?;
    let transaction = client.transaction().await?;
    transaction
        .execute("INSERT INTO tx VALUES (3)", &[])
        .await?;
    transaction.commit().await?;
    let ids: Vec<i32> = client
        .query("SELECT id FROM tx ORDER BY id", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    ensure(ids == vec![3], || {
        format!("ids after rollback and commit: {ids:?}")
    })?;

    client.batch_execute("BEGIN").await?;
    let error = client
        .batch_execute("INSERT INTO tx VALUES (3)")
        .await
        .err()
        .ok_or_else(|| HarnessError::new("duplicate key accepted"))?;
    ensure(sqlstate(&error) == "23505", || {
        format!("duplicate key: {}", sqlstate(&error))
    })?;
    let error = client
        .batch_execute("SELECT 1")
        .await
        .err()
        .ok_or_else(|| HarnessError::new("statement accepted in an aborted transaction"))?;
    ensure(sqlstate(&error) == "25P02", || {
        format!("aborted transaction: {}", sqlstate(&error))
    })?;
    client.batch_execute("ROLLBACK").await?;
    let count: i64 = client
        .query_one("SELECT count(*) FROM tx", &[])
        .await?
        .get(0);
    ensure(count == 1, || {
        format!("count after the failed transaction: {count}")
    })?;
    client.batch_execute("DROP TABLE tx").await?;
    Ok(())
}

async fn cancel_request_interrupts_pg_sleep(endpoint: &Endpoint) -> HarnessResult<()> {
    let client = endpoint.connect().await?;
    let cancel = client.cancel_token();
    let started = Instant::now();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cancel.cancel_query(NoTls).await
    });
    let result = tokio::time::timeout(
        Duration::from_secs(15),
        client.simple_query("SELECT pg_sleep(5)"),
    )
    .await
    .map_err(|_| HarnessError::new("pg_sleep(5) neither finished nor was cancelled in 15 s"))?;
    canceller
        .await
        .map_err(|e| HarnessError::new(format!("cancel task: {e}")))??;
    let elapsed = started.elapsed();
    let error = result
        .err()
        .ok_or_else(|| HarnessError::new(format!("pg_sleep(5) was not cancelled ({elapsed:?})")))?;
    ensure(sqlstate(&error) == "57014", || {
        format!("cancelled query: {}", sqlstate(&error))
    })?;
    ensure(elapsed < Duration::from_secs(4), || {
        format!("cancellation took {elapsed:?}")
    })?;
    let one: i32 = client.query_one("SELECT 1", &[]).await?.get(0);
    ensure(one == 1, || "connection unusable after the cancel".into())
}

async fn notice_is_delivered_for_drop_if_exists(endpoint: &Endpoint) -> HarnessResult<()> {
    let (client, mut notices) = endpoint.connect_with_notices().await?;
    client
        .batch_execute("DROP TABLE IF EXISTS nonexistent_table_for_notice")
        .await?;
    let notice = tokio::time::timeout(Duration::from_secs(5), notices.recv())
        .await
        .map_err(|_| HarnessError::new("no notice within 5 s"))?
        .ok_or_else(|| HarnessError::new("notice channel closed"))?;
    ensure(notice.code().code() == "00000", || {
        format!("notice SQLSTATE {}", notice.code().code())
    })?;
    ensure(notice.severity() == "NOTICE", || {
        format!("notice severity {}", notice.severity())
    })?;
    ensure(
        notice.message() == "table \"nonexistent_table_for_notice\" does not exist, skipping",
        || format!("notice message {:?}", notice.message()),
    )
}

async fn large_result_is_streamed(endpoint: &Endpoint) -> HarnessResult<()> {
    let client = endpoint.connect().await?;
    let rows = client
        .query(
            "SELECT g, repeat('x', 100) FROM generate_series(1, 100000) AS g",
            &[],
        )
        .await?;
    ensure(rows.len() == 100_000, || format!("{} rows", rows.len()))?;
    let sum: i64 = rows.iter().map(|row| i64::from(row.get::<_, i32>(0))).sum();
    ensure(sum == 5_000_050_000, || format!("sum {sum}"))
}

async fn concurrent_connections_work_independently(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut tasks = Vec::new();
    for worker in 0..8i32 {
        let endpoint = endpoint.clone();
        tasks.push(tokio::spawn(async move {
            let client = endpoint.connect().await?;
            let mut total = 0i64;
            for round in 0..20i32 {
                let value: i32 = client
                    .query_one("SELECT $1::int4 * 100 + $2::int4", &[&worker, &round])
                    .await?
                    .get(0);
                total += i64::from(value);
            }
            HarnessResult::Ok(total)
        }));
    }
    for (worker, task) in tasks.into_iter().enumerate() {
        let total = task
            .await
            .map_err(|e| HarnessError::new(format!("worker task: {e}")))??;
        let expected = worker as i64 * 100 * 20 + 190;
        ensure(total == expected, || {
            format!("worker {worker}: {total} != {expected}")
        })?;
    }
    Ok(())
}

async fn wrong_password_is_rejected_with_28p01(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut wrong = endpoint.clone();
    wrong.password = format!("{}-wrong", endpoint.password);
    let connection_string = wrong.connection_string();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_postgres::connect(&connection_string, NoTls),
    )
    .await
    .map_err(|_| HarnessError::new("login with a wrong password hung"))?;
    match result {
        Ok(_) => Err(HarnessError::new("a wrong password was accepted")),
        Err(error) => ensure(sqlstate(&error) == "28P01", || {
            format!("wrong password: expected 28P01, got {}", sqlstate(&error))
        }),
    }
}

async fn unknown_database_is_rejected_with_3d000(endpoint: &Endpoint) -> HarnessResult<()> {
    let mut unknown = endpoint.clone();
    unknown.dbname = "no_such_database".to_string();
    let connection_string = unknown.connection_string();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_postgres::connect(&connection_string, NoTls),
    )
    .await
    .map_err(|_| HarnessError::new("login to an unknown database hung"))?;
    match result {
        Ok(_) => Err(HarnessError::new("an unknown database was accepted")),
        Err(error) => ensure(sqlstate(&error) == "3D000", || {
            format!("unknown database: expected 3D000, got {}", sqlstate(&error))
        }),
    }
}
