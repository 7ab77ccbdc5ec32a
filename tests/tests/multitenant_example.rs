//! The README's multi-tenant CRM example (`tests/governance/multitenant.sql`), run through
//! psql as the superuser on a server with a token key file, then checked role by role:
//!
//! - sales reps see, search semantically and get RAG context from their own accounts only,
//!   cannot write into another tenant and cannot forge their tenant claim;
//! - the analyst reads the tenant's accounts with masked e-mails and phones and card tokens,
//!   and may not detokenize;
//! - the PCI officer detokenizes the card numbers;
//! - the auditor sees the detokenize calls and the denials, and the chain verifies.

use custos_tests::error::ensure;
use custos_tests::locate::{model_dir, workspace_root};
use custos_tests::{CustosServer, Endpoint, HarnessResult, ServerOptions};
use tokio_postgres::Client;

const KEYS: &str = "* 1 0f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff\n";

/// (id, tenant, rep, e-mail, card number) of the example's rows.
const ACCOUNTS: &[(i64, i32, &str, &str, &str)] = &[
    (1, 1, "alice", "jane.doe@acme.example", "4111111111111111"),
    (
        2,
        1,
        "alice",
        "h.simpson@globex.example",
        "5555555555554444",
    ),
    (3, 1, "bob", "peter@initech.example", "4012888888881881"),
    (
        4,
        2,
        "carol",
        "a.wesker@umbrella.example",
        "378282246310005",
    ),
];

async fn login(server: &CustosServer, user: &str) -> HarnessResult<Client> {
    Endpoint {
        user: user.to_string(),
        password: format!("{user}-secret"),
        ..server.endpoint().clone()
    }
    .connect()
    .await
}

async fn ids(client: &Client, sql: &str) -> HarnessResult<Vec<i64>> {
    Ok(client
        .query(sql, &[])
        .await?
        .iter()
        .map(|r| r.get::<_, i64>(0))
        .collect())
}

/// The SQLSTATE a statement fails with, or "ok".
async fn sqlstate(client: &Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => "ok".to_string(),
        Err(e) => e
            .as_db_error()
            .map_or_else(|| e.to_string(), |db| db.code().code().to_string()),
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                (d * 2) % 9 + u32::from(d == 9) * 9
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multitenant_example_gives_each_role_what_the_readme_says() -> HarnessResult<()> {
    let keys = tempfile::tempdir()?;
    let key_file = keys.path().join("token.keys");
    std::fs::write(&key_file, KEYS)?;
    let server = CustosServer::start_with(ServerOptions {
        args: vec!["--model-dir".into(), model_dir()?.display().to_string()],
        env: vec![(
            "CUSTOS_TOKEN_KEY_FILE".into(),
            key_file.display().to_string(),
        )],
    })
    .await?;
    let script = workspace_root().join("tests/governance/multitenant.sql");
    let script = script.display().to_string();
    let out = server.psql(&["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", &script], None)?;
    ensure(out.success(), || {
        format!("the example failed: {}\n{}", out.stderr, server.log_tail())
    })?;

    // Sales reps: their own accounts, in SQL, in semantic search and in RAG context.
    let all = "SELECT id FROM crm_accounts ORDER BY id";
    let search = "SELECT id FROM crm_accounts \
                  ORDER BY notes_vec <=> embed('which customer may cancel?') LIMIT 5";
    let rag = "SELECT row_key FROM rag_context('which customer may cancel?', 5) ORDER BY rank";
    for (user, own) in [("alice", vec![1, 2]), ("bob", vec![3]), ("carol", vec![4])] {
        let client = login(&server, user).await?;
        let seen = ids(&client, all).await?;
        ensure(seen == own, || format!("{user} sees {seen:?}, not {own:?}"))?;
        let mut found = ids(&client, search).await?;
        found.sort_unstable();
        ensure(found == own, || format!("{user}'s search found {found:?}"))?;
        let keys: Vec<String> = client
            .query(rag, &[])
            .await?
            .iter()
            .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
            .collect();
        ensure(
            keys.len() == own.len()
                && keys
                    .iter()
                    .all(|k| own.iter().any(|id| k.contains(&id.to_string()))),
            || format!("{user}'s RAG context came from {keys:?}"),
        )?;
        // Another tenant's row, or another rep's, cannot be written; the claim cannot be forged.
        let state = sqlstate(
            &client,
            &format!(
                "INSERT INTO crm_accounts (id, tenant_id, rep, company, contact_email) \
                 VALUES (10, 3, '{user}', 'X', 'x@x.example')"
            ),
        )
        .await;
        ensure(state == "42501", || {
            format!("{user}'s cross-tenant insert: {state}")
        })?;
        let state = sqlstate(&client, "SET custos.claim.tenant_id = '2'").await;
        ensure(state == "42501", || {
            format!("{user} set their claim: {state}")
        })?;
    }

    // The analyst: the tenant's accounts, masked contacts, card tokens, no detokenize.
    let analyst = login(&server, "analyst").await?;
    let rows = analyst
        .query(
            "SELECT id, contact_email, card_number FROM crm_accounts ORDER BY id",
            &[],
        )
        .await?;
    ensure(rows.len() == 3, || {
        format!("the analyst sees {} rows", rows.len())
    })?;
    for (row, &(id, _, _, email, card)) in rows.iter().zip(ACCOUNTS) {
        let (seen_id, masked, token): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        ensure(seen_id == id, || format!("analyst row {seen_id}"))?;
        ensure(masked != email, || {
            format!("the analyst saw the e-mail {masked}")
        })?;
        ensure(
            token != card
                && token.len() == card.len()
                && token.ends_with(&card[card.len() - 4..])
                && !luhn_valid(&token),
            || format!("card {card} stored as {token}"),
        )?;
    }
    let state = sqlstate(&analyst, "SELECT detokenize(card_number) FROM crm_accounts").await;
    ensure(state == "42501", || {
        format!("the analyst's detokenize: {state}")
    })?;

    // The PCI officer turns the tokens back into card numbers.
    let pci = login(&server, "pci_officer").await?;
    let rows = pci
        .query(
            "SELECT detokenize(card_number) FROM crm_accounts ORDER BY id",
            &[],
        )
        .await?;
    let cards: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let expected: Vec<String> = ACCOUNTS[..3].iter().map(|a| a.4.to_string()).collect();
    ensure(cards == expected, || format!("detokenized {cards:?}"))?;

    // The auditor: the detokenize calls, the denials, and a chain that verifies.
    let auditor = login(&server, "auditor").await?;
    let detokenized: i64 = auditor
        .query_one(
            "SELECT count(*) FROM pg_catalog.custos_audit \
             WHERE class = 'DETOKENIZE' AND current_user_name = 'pci_officer'",
            &[],
        )
        .await?
        .get(0);
    ensure(detokenized >= 1, || {
        "no detokenize call in the audit trail".into()
    })?;
    let denials: i64 = auditor
        .query_one(
            "SELECT count(*) FROM pg_catalog.custos_audit WHERE sqlstate = '42501'",
            &[],
        )
        .await?
        .get(0);
    ensure(denials >= 7, || {
        format!("{denials} denials in the audit trail")
    })?;
    let verified: String = auditor
        .query_one("SELECT custos_audit_verify()", &[])
        .await?
        .get(0);
    ensure(verified.starts_with("OK"), || format!("verify: {verified}"))?;
    let state = sqlstate(&analyst, "SELECT count(*) FROM pg_catalog.custos_audit").await;
    ensure(state == "42501", || {
        format!("the analyst read the audit trail: {state}")
    })?;
    Ok(())
}
