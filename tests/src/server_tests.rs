//! [`server_tests!`](crate::server_tests): one check, two tests. Each check is an
//! `async fn name(endpoint: &Endpoint) -> HarnessResult<()>` in the test file; the macro makes
//! `reference::name` (against PostgreSQL 15 with SCRAM authentication, proving the check
//! itself right) and `custos::name` (against a fresh custos server, which must still be
//! running afterwards). Filter with `cargo test -p custos-tests custos::` or `reference::`.

/// Generates `mod reference` and `mod custos` with one `#[tokio::test]` per listed check.
#[macro_export]
macro_rules! server_tests {
    ($($check:ident),* $(,)?) => {
        /// The checks against PostgreSQL 15: they validate the tests themselves.
        mod reference {
            $(
                #[tokio::test]
                async fn $check() -> $crate::HarnessResult<()> {
                    let server = $crate::ReferencePostgres::start_with_password_auth().await?;
                    super::$check(server.endpoint()).await
                }
            )*
        }

        /// The checks against custos.
        mod custos {
            $(
                #[tokio::test]
                async fn $check() -> $crate::HarnessResult<()> {
                    let mut server = $crate::CustosServer::start().await?;
                    let outcome = super::$check(server.endpoint()).await;
                    server.ensure_alive()?;
                    outcome
                }
            )*
        }
    };
}
