//! The custos process itself (issue 3): SIGTERM is a graceful shutdown with exit code 0 even
//! with clients connected, and committed data survives a restart on the same data directory.
//! These need custos only; their names start with `custos_`.

use std::time::Duration;

use custos_tests::error::ensure;
use custos_tests::process::StopOutcome;
use custos_tests::{CustosServer, HarnessError, HarnessResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_sigterm_shuts_down_with_exit_code_0() -> HarnessResult<()> {
    let mut server = CustosServer::start().await?;
    let idle = server.endpoint().connect().await?;
    let in_transaction = server.endpoint().connect().await?;
    in_transaction.batch_execute("BEGIN; SELECT 1").await?;
    let outcome = tokio::task::block_in_place(|| server.stop());
    match outcome {
        Some(StopOutcome::Exited(status)) => ensure(status.success(), || {
            format!(
                "custos exited with {status} on SIGTERM; log:\n{}",
                server.log_tail()
            )
        })?,
        Some(StopOutcome::Killed) => {
            return Err(HarnessError::new(format!(
                "custos did not exit within its shutdown timeout after SIGTERM; log:\n{}",
                server.log_tail()
            )))
        }
        None => return Err(HarnessError::new("the server was not running")),
    }
    // The clients see their connections end rather than hang.
    let result = tokio::time::timeout(Duration::from_secs(5), idle.simple_query("SELECT 1")).await;
    ensure(matches!(result, Ok(Err(_))), || {
        format!("a client of the stopped server got {result:?}")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_committed_data_survives_restart() -> HarnessResult<()> {
    let mut server = CustosServer::start().await?;
    {
        let client = server.endpoint().connect().await?;
        client
            .batch_execute(
                "CREATE TABLE survivors (id int PRIMARY KEY, name text NOT NULL);\
                 INSERT INTO survivors SELECT g, 'row ' || g FROM generate_series(1, 1000) AS g;\
                 BEGIN; DELETE FROM survivors WHERE id <= 10; COMMIT;\
                 BEGIN; DELETE FROM survivors; ROLLBACK;",
            )
            .await?;
    }
    let outcome = tokio::task::block_in_place(|| server.stop())
        .ok_or_else(|| HarnessError::new("the server was not running"))?;
    server.start_again().await?;
    ensure(
        matches!(outcome, StopOutcome::Exited(status) if status.success()),
        || format!("shutdown before the restart: {outcome:?}"),
    )?;
    let client = server.endpoint().connect().await?;
    let row = client
        .query_one("SELECT count(*), min(id), max(name) FROM survivors", &[])
        .await?;
    let (count, min_id, max_name): (i64, i32, String) = (row.get(0), row.get(1), row.get(2));
    ensure(
        count == 990 && min_id == 11 && max_name == "row 999",
        || format!("after the restart: count {count}, min id {min_id}, max name {max_name}"),
    )
}
