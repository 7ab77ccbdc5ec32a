//! What one statement did, as a string that compares across servers: `ok`, each row as
//! ` [v1|v2|...]` (NULL as `NULL`) and each command's ` (tag)`, or `ERROR <SQLSTATE>: <message>`.
//! Differential tests run the same script on PostgreSQL 15 and custos and compare these.

use tokio_postgres::{Client, SimpleQueryMessage};

/// Runs `sql` with the simple query protocol and describes what it did.
pub async fn outcome(client: &Client, sql: &str) -> String {
    match client.simple_query(sql).await {
        Ok(messages) => {
            let mut out = String::from("ok");
            for message in messages {
                match message {
                    SimpleQueryMessage::Row(row) => {
                        let values: Vec<String> = (0..row.len())
                            .map(|i| row.get(i).unwrap_or("NULL").to_string())
                            .collect();
                        out.push_str(&format!(" [{}]", values.join("|")));
                    }
                    SimpleQueryMessage::CommandComplete(n) => out.push_str(&format!(" ({n})")),
                    _ => {}
                }
            }
            out
        }
        Err(error) => match error.as_db_error() {
            Some(db) => format!("ERROR {}: {}", db.code().code(), db.message()),
            None => format!("client error: {error}"),
        },
    }
}
