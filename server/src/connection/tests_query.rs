//! The simple and extended query protocols and COPY, over real sockets against an
//! in-process server.

use std::time::Duration;

use super::test_client::*;

const TABLE: &str = "CREATE TABLE t (a int, b text)";

fn text_values(messages: &[Message]) -> Vec<Vec<Option<String>>> {
    messages
        .iter()
        .filter(|(t, _)| *t == b'D')
        .map(|(_, body)| {
            row_values(body)
                .into_iter()
                .map(|v| v.map(|b| String::from_utf8(b).unwrap()))
                .collect()
        })
        .collect()
}

fn command_tags(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter(|(t, _)| *t == b'C')
        .map(|(_, body)| String::from_utf8_lossy(&body[..body.len() - 1]).into_owned())
        .collect()
}

#[test]
fn simple_query_rows_and_row_description() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    let messages = client.query("SELECT 1");
    assert_eq!(tags(&messages), "TDCZ");
    let description = &messages[0].1;
    assert_eq!(&description[..2], &[0, 1]);
    // name, table oid 0, column 0, type int4 (23), typlen 4, typmod -1, text format.
    let field = &description[2..];
    let name_end = field.iter().position(|&b| b == 0).unwrap();
    assert_eq!(
        &field[name_end + 1..],
        &[0, 0, 0, 0, 0, 0, 0, 0, 0, 23, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0]
    );
    assert_eq!(text_values(&messages), vec![vec![Some("1".to_string())]]);
    assert_eq!(command_tags(&messages), vec!["SELECT 1"]);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn empty_query_and_errors_then_ready() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    assert_eq!(tags(&client.query("")), "IZ");
    let messages = client.query("SELECT 1/0");
    assert_eq!(error_code(&messages).as_deref(), Some("22012"));
    assert_eq!(messages.last().unwrap(), &(b'Z', vec![b'I']));
    // The first error skips the rest of a multi-statement query.
    let messages = client.query("SELECT 1; SELECT 1/0; SELECT 2");
    assert_eq!(tags(&messages), "TDCEZ");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn transaction_status_follows_blocks() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    assert_eq!(client.query("BEGIN").last().unwrap().1, vec![b'T']);
    let messages = client.query("SELECT 1/0");
    assert_eq!(messages.last().unwrap().1, vec![b'E']);
    let messages = client.query("SELECT 1");
    assert_eq!(error_code(&messages).as_deref(), Some("25P02"));
    assert_eq!(client.query("ROLLBACK").last().unwrap().1, vec![b'I']);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn extended_protocol_with_binary_parameters_and_results() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.send(b'P', &parse_body("s1", "SELECT $1", &[23]));
    client.send(b'D', &[b"S".as_slice(), b"s1\0"].concat());
    client.send(
        b'B',
        &bind_body("", "s1", &[1], &[Some(&[0, 0, 0, 42])], &[1]),
    );
    client.send(b'D', b"P\0");
    client.send(b'E', &execute_body("", 0));
    client.send(b'S', b"");
    let messages = client.until_ready();
    assert_eq!(tags(&messages), "1tT2TDCZ");
    assert_eq!(messages[1].1, vec![0, 1, 0, 0, 0, 23]);
    // The portal's RowDescription says binary.
    let portal_description = &messages[4].1;
    assert_eq!(&portal_description[portal_description.len() - 2..], &[0, 1]);
    assert_eq!(row_values(&messages[5].1), vec![Some(vec![0, 0, 0, 42])]);
    // Text parameters, text results, the named statement reused.
    client.send(b'B', &bind_body("", "s1", &[], &[Some(b"7")], &[]));
    client.send(b'E', &execute_body("", 0));
    client.send(b'S', b"");
    let messages = client.until_ready();
    assert_eq!(tags(&messages), "2DCZ");
    assert_eq!(text_values(&messages), vec![vec![Some("7".to_string())]]);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn execute_with_a_row_limit_suspends_the_portal() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.query(TABLE);
    let inserted =
        client.query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')");
    assert_eq!(command_tags(&inserted), vec!["INSERT 0 5"]);
    client.send(b'P', &parse_body("", "SELECT a FROM t ORDER BY a", &[]));
    client.send(b'B', &bind_body("p", "", &[], &[], &[]));
    client.send(b'E', &execute_body("p", 2));
    client.send(b'E', &execute_body("p", 2));
    client.send(b'E', &execute_body("p", 2));
    client.send(b'E', &execute_body("p", 2));
    client.send(b'S', b"");
    let messages = client.until_ready();
    assert_eq!(tags(&messages), "12DDsDDsDCCZ");
    assert_eq!(command_tags(&messages), vec!["SELECT 1", "SELECT 0"]);
    let values: Vec<_> = text_values(&messages)
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    assert_eq!(values, ["1", "2", "3", "4", "5"]);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn an_extended_error_discards_messages_until_sync() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.send(b'P', &parse_body("", "SELECT 1/0", &[]));
    client.send(b'B', &bind_body("", "", &[], &[], &[]));
    client.send(b'E', &execute_body("", 0));
    client.send(b'P', &parse_body("", "SELECT 1", &[]));
    client.send(b'B', &bind_body("", "", &[], &[], &[]));
    client.send(b'E', &execute_body("", 0));
    client.send(b'S', b"");
    let messages = client.until_ready();
    assert_eq!(tags(&messages), "12EZ");
    assert_eq!(error_code(&messages).as_deref(), Some("22012"));
    // Protocol errors of Bind: wrong parameter count, unknown statement, bad format code.
    for bind in [
        bind_body("", "", &[], &[Some(b"1")], &[]),
        bind_body("", "missing", &[], &[], &[]),
        bind_body("", "", &[], &[], &[7]),
    ] {
        client.send(b'P', &parse_body("", "SELECT 1", &[]));
        client.send(b'B', &bind);
        client.send(b'S', b"");
        let messages = client.until_ready();
        assert_eq!(tags(&messages), "1EZ");
    }
    // An unknown parameter type OID.
    client.send(b'P', &parse_body("", "SELECT $1", &[999_999]));
    client.send(b'S', b"");
    let messages = client.until_ready();
    assert_eq!(error_code(&messages).as_deref(), Some("42704"));
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn statements_and_portals_can_be_described_and_closed() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.send(b'P', &parse_body("q", "SELECT 1", &[]));
    client.send(b'P', &parse_body("q", "SELECT 2", &[]));
    client.send(b'S', b"");
    let messages = client.until_ready();
    assert_eq!(tags(&messages), "1EZ");
    assert_eq!(error_code(&messages).as_deref(), Some("42P05"));
    client.send(b'C', b"Sq\0");
    client.send(b'C', b"Snever\0");
    client.send(b'D', b"Sq\0");
    client.send(b'S', b"");
    let messages = client.until_ready();
    assert_eq!(tags(&messages), "33EZ");
    assert_eq!(error_code(&messages).as_deref(), Some("26000"));
    // The empty query through the extended protocol.
    client.send(b'P', &parse_body("", "", &[]));
    client.send(b'B', &bind_body("", "", &[], &[], &[]));
    client.send(b'D', b"P\0");
    client.send(b'E', &execute_body("", 0));
    client.send(b'S', b"");
    assert_eq!(tags(&client.until_ready()), "12nIZ");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn copy_in_text_then_out_in_csv() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    assert_eq!(error_code(&client.query(TABLE)), None);
    client.send(b'Q', &cstr("COPY t FROM STDIN"));
    let (tag, body) = client.read().unwrap();
    assert_eq!((tag, body), (b'G', vec![0, 0, 2, 0, 0, 0, 0]));
    client.send(b'd', b"1\tone\n2\t");
    client.send(b'd', b"\\N\n3\tth");
    client.send(b'd', b"ree\n");
    client.send(b'c', b"");
    let messages = client.until_ready();
    assert_eq!(command_tags(&messages), vec!["COPY 3"]);
    client.send(b'Q', &cstr("COPY t TO STDOUT (FORMAT csv, HEADER)"));
    let messages = client.until_ready();
    assert_eq!(messages[0], (b'H', vec![0, 0, 2, 0, 0, 0, 0]));
    let data: Vec<u8> = messages
        .iter()
        .filter(|(t, _)| *t == b'd')
        .flat_map(|(_, b)| b.clone())
        .collect();
    assert_eq!(
        String::from_utf8(data).unwrap(),
        "a,b\n1,one\n2,\n3,three\n"
    );
    assert_eq!(command_tags(&messages), vec!["COPY 3"]);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn copy_errors_carry_context_and_leave_nothing_behind() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.query(TABLE);
    client.send(b'Q', &cstr("COPY t FROM STDIN"));
    assert_eq!(client.read().unwrap().0, b'G');
    client.send(b'd', b"1\tone\nx\ttwo\n");
    let messages = client.until_ready();
    let (_, error) = messages.iter().find(|(t, _)| *t == b'E').unwrap();
    let fields = error_fields(error);
    assert_eq!(fields[&b'C'], "22P02");
    assert_eq!(
        fields[&b'M'],
        "invalid input syntax for type integer: \"x\""
    );
    assert_eq!(fields[&b'W'], "COPY t, line 2, column a: \"x\"");
    // What the client still sends for the failed COPY is ignored.
    client.send(b'd', b"3\tthree\n");
    client.send(b'c', b"");
    // CopyFail aborts.
    client.send(b'Q', &cstr("COPY t FROM STDIN"));
    assert_eq!(client.read().unwrap().0, b'G');
    client.send(b'd', b"5\tfive\n");
    client.send(b'f', &cstr("client gave up"));
    let messages = client.until_ready();
    assert_eq!(error_code(&messages).as_deref(), Some("57014"));
    let messages = client.query("SELECT a, b FROM t");
    assert_eq!(text_values(&messages), Vec::<Vec<Option<String>>>::new());
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn copy_in_binary_format() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.query(TABLE);
    client.send(b'Q', &cstr("COPY t FROM STDIN (FORMAT binary)"));
    let (tag, body) = client.read().unwrap();
    assert_eq!((tag, body), (b'G', vec![1, 0, 2, 0, 1, 0, 1]));
    let mut data = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
    data.extend_from_slice(&[0, 2, 0, 0, 0, 4, 0, 0, 0, 9, 0, 0, 0, 4]);
    data.extend_from_slice(b"nine");
    data.extend_from_slice(&[0, 2, 0, 0, 0, 4, 0, 0, 0, 10, 0xff, 0xff, 0xff, 0xff]);
    data.extend_from_slice(&[0xff, 0xff]);
    for chunk in data.chunks(7) {
        client.send(b'd', chunk);
    }
    client.send(b'c', b"");
    let messages = client.until_ready();
    assert_eq!(command_tags(&messages), vec!["COPY 2"]);
    let messages = client.query("SELECT a, b FROM t ORDER BY a");
    assert_eq!(
        text_values(&messages),
        vec![
            vec![Some("9".into()), Some("nine".into())],
            vec![Some("10".into()), None]
        ]
    );
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn a_client_vanishing_mid_copy_does_not_disturb_others() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.query(TABLE);
    client.send(b'Q', &cstr("COPY t FROM STDIN"));
    assert_eq!(client.read().unwrap().0, b'G');
    client.send(b'd', b"1\tone\n");
    drop(client);
    let mut other = TestClient::login_ok(server.local_address());
    let messages = other.query("SELECT a, b FROM t");
    assert_eq!(tags(&messages), "TCZ");
    server.shutdown(Duration::from_secs(5));
}

/// Sends one COPY FROM STDIN with `data` split into small CopyData messages; returns what
/// the server answered up to ReadyForQuery.
fn copy_in(client: &mut TestClient, sql: &str, data: &[u8]) -> Vec<Message> {
    client.send(b'Q', &cstr(sql));
    let (tag, _) = client.read().unwrap();
    assert_eq!(tag, b'G', "{sql}");
    for chunk in data.chunks(5) {
        client.send(b'd', chunk);
    }
    client.send(b'c', b"");
    client.until_ready()
}

#[test]
fn copy_checks_every_constraint_and_names_the_line_of_the_row_that_breaks_one() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    let create = "CREATE TABLE k (id int PRIMARY KEY, n int NOT NULL DEFAULT 7 CHECK (n > 0), \
                  note text)";
    assert_eq!(error_code(&client.query(create)), None);
    // Defaults fill the columns the data leaves out; quoted fields span messages.
    let messages = copy_in(
        &mut client,
        "COPY k (id, note) FROM STDIN (FORMAT csv)",
        b"1,\"a, quoted\"\r\n2,\n",
    );
    assert_eq!(command_tags(&messages), vec!["COPY 2"]);
    // What PostgreSQL 15 answers: NOT NULL and CHECK as each row is read (with the line),
    // unique keys when the buffered rows are inserted (so a later CHECK failure in the same
    // buffer comes first), foreign keys at the end of the statement (no COPY context).
    let cases: [(&str, &[u8], &str, Option<&str>); 5] = [
        (
            "COPY k FROM STDIN (FORMAT csv)",
            b"3,1,x\n1,1,dup\n",
            "23505",
            Some("COPY k, line 2"),
        ),
        (
            "COPY k FROM STDIN (FORMAT csv)",
            b"4,-1,neg\n",
            "23514",
            Some("COPY k, line 1: \"4,-1,neg\""),
        ),
        (
            "COPY k FROM STDIN (FORMAT csv)",
            b"5,1,a\n5,,null\n",
            "23502",
            Some("COPY k, line 2: \"5,,null\""),
        ),
        (
            "COPY k FROM STDIN (FORMAT csv)",
            b"6,1,a\n6,1,b\n7,-1,c\n",
            "23514",
            Some("COPY k, line 3: \"7,-1,c\""),
        ),
        (
            "COPY child FROM STDIN (FORMAT csv)",
            b"1,999\n",
            "23503",
            None,
        ),
    ];
    client.query("CREATE TABLE child (id int PRIMARY KEY, k int REFERENCES k (id))");
    for (sql, data, code, context) in cases {
        let messages = copy_in(&mut client, sql, data);
        let (_, error) = messages.iter().find(|(t, _)| *t == b'E').unwrap();
        let fields = error_fields(error);
        assert_eq!(fields[&b'C'], code, "{data:?}");
        assert_eq!(fields.get(&b'W').map(String::as_str), context, "{data:?}");
    }
    let messages = client.query("SELECT id, n, note FROM k ORDER BY id");
    assert_eq!(
        text_values(&messages),
        vec![
            vec![Some("1".into()), Some("7".into()), Some("a, quoted".into())],
            vec![Some("2".into()), Some("7".into()), None],
        ]
    );
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn copy_in_a_block_fails_the_block_and_integers_take_every_form() {
    let (_dir, server) = test_server(10);
    let mut client = TestClient::login_ok(server.local_address());
    client.query("CREATE TABLE w (a int2, b int8, c varchar(3), d text)");
    let messages = copy_in(
        &mut client,
        "COPY w FROM STDIN (FORMAT csv)",
        b" 12 ,+9000000000,ab,\"\"\n-32768,-0,abc,x\n",
    );
    assert_eq!(command_tags(&messages), vec!["COPY 2"]);
    let messages = client.query("SELECT a, b, c, d FROM w ORDER BY a");
    assert_eq!(
        text_values(&messages),
        vec![
            vec![
                Some("-32768".into()),
                Some("0".into()),
                Some("abc".into()),
                Some("x".into())
            ],
            vec![
                Some("12".into()),
                Some("9000000000".into()),
                Some("ab".into()),
                Some("".into())
            ],
        ]
    );
    let messages = copy_in(
        &mut client,
        "COPY w FROM STDIN (FORMAT csv)",
        b"32768,1,a,b\n",
    );
    let (_, error) = messages.iter().find(|(t, _)| *t == b'E').unwrap();
    let fields = error_fields(error);
    assert_eq!(fields[&b'C'], "22003");
    assert_eq!(fields[&b'W'], "COPY w, line 1, column a: \"32768\"");
    client.query("BEGIN");
    let messages = copy_in(
        &mut client,
        "COPY w FROM STDIN (FORMAT csv)",
        b"1,1,toolong,x\n",
    );
    assert_eq!(error_code(&messages).as_deref(), Some("22001"));
    assert_eq!(messages.last().unwrap(), &(b'Z', vec![b'E']));
    client.query("ROLLBACK");
    assert_eq!(
        text_values(&client.query("SELECT count(*) FROM w")),
        vec![vec![Some("2".into())]]
    );
    server.shutdown(Duration::from_secs(5));
}
