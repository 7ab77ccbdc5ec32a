// pgjdbc client check for custos (and, to validate this program, PostgreSQL 15).
//
// Usage: java -Duser.timezone=UTC -cp postgresql.jar:<classes> JdbcCheck <jdbc-url> <user> <password>
//
// Runs independent checks, prints one line per check ("ok <name>" or "FAIL <name>: <why>") and
// exits with status 1 if any check failed. Checks: typed PreparedStatement parameters of many
// types read back exactly, NULLs, batches, transactions, an SQLSTATE, DatabaseMetaData, cursor
// fetches (portals with a row limit), and a prepareThreshold=1 connection (named server-side
// statements and binary transfer). Tables are created and dropped by the program itself.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

public class JdbcCheck {
    private static int failures = 0;

    interface Check {
        void run() throws Exception;
    }

    private static void check(String name, Check body) {
        try {
            body.run();
            System.out.println("ok " + name);
        } catch (Throwable e) {
            failures++;
            System.out.println("FAIL " + name + ": " + e);
        }
        System.out.flush();
    }

    private static void expect(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    private static void expectEquals(Object expected, Object actual, String what) {
        boolean equal = expected == null ? actual == null : expected.equals(actual);
        if (!equal) {
            throw new AssertionError(what + ": expected <" + expected + "> but got <" + actual + ">");
        }
    }

    private static long count(Connection connection, String table) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT count(*) FROM " + table)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static final String TYPES_TABLE = "CREATE TABLE jdbc_types ("
            + "id integer PRIMARY KEY, c_int integer, c_bigint bigint, c_smallint smallint, "
            + "c_real real, c_double double precision, c_numeric numeric(12, 4), c_text text, "
            + "c_varchar varchar(50), c_bool boolean, c_date date, c_ts timestamp, "
            + "c_tstz timestamptz, c_bytea bytea, c_uuid uuid, c_jsonb jsonb)";

    private static final String INSERT_TYPES = "INSERT INTO jdbc_types (id, c_int, c_bigint, "
            + "c_smallint, c_real, c_double, c_numeric, c_text, c_varchar, c_bool, c_date, c_ts, "
            + "c_tstz, c_bytea, c_uuid, c_jsonb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private static final UUID SAMPLE_UUID = UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    private static final byte[] SAMPLE_BYTES = {0, 1, 2, (byte) 0xfe, (byte) 0xff, 39, 92};
    private static final OffsetDateTime SAMPLE_TSTZ =
            OffsetDateTime.of(2023, 6, 1, 12, 15, 36, 123456000, ZoneOffset.ofHours(2));
    private static final LocalDateTime SAMPLE_TS = LocalDateTime.of(2021, 8, 19, 14, 37, 52, 500000000);

    /** Inserts the sample row with id `id` and the all-NULL row with id `id + 1`. */
    private static void insertSampleRows(Connection connection, int id) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(INSERT_TYPES)) {
            insert.setInt(1, id);
            insert.setInt(2, -2147483648);
            insert.setLong(3, 9223372036854775807L);
            insert.setShort(4, (short) -32768);
            insert.setFloat(5, 3.25f);
            insert.setDouble(6, 2.718281828459045);
            insert.setBigDecimal(7, new BigDecimal("12345678.9012"));
            insert.setString(8, "text with 'quotes', \"double\", tab\t, newline\n and ünïcödé ✓");
            insert.setString(9, "varchar value");
            insert.setBoolean(10, true);
            insert.setDate(11, Date.valueOf("2021-08-19"));
            insert.setTimestamp(12, Timestamp.valueOf(SAMPLE_TS));
            insert.setObject(13, SAMPLE_TSTZ);
            insert.setBytes(14, SAMPLE_BYTES);
            insert.setObject(15, SAMPLE_UUID);
            insert.setObject(16, "{\"b\": [true, null], \"a\": 1}", Types.OTHER);
            expectEquals(1, insert.executeUpdate(), "rows inserted");

            insert.setInt(1, id + 1);
            insert.setNull(2, Types.INTEGER);
            insert.setNull(3, Types.BIGINT);
            insert.setNull(4, Types.SMALLINT);
            insert.setNull(5, Types.REAL);
            insert.setNull(6, Types.DOUBLE);
            insert.setNull(7, Types.NUMERIC);
            insert.setNull(8, Types.VARCHAR);
            insert.setNull(9, Types.VARCHAR);
            insert.setNull(10, Types.BOOLEAN);
            insert.setNull(11, Types.DATE);
            insert.setNull(12, Types.TIMESTAMP);
            insert.setNull(13, Types.TIMESTAMP_WITH_TIMEZONE);
            insert.setNull(14, Types.BINARY);
            insert.setNull(15, Types.OTHER);
            insert.setNull(16, Types.OTHER);
            expectEquals(1, insert.executeUpdate(), "NULL row inserted");
        }
    }

    /** Reads back the rows written by insertSampleRows with a parameterised query. */
    private static void verifySampleRows(Connection connection, int id) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT c_int, c_bigint, c_smallint, c_real, c_double, c_numeric, c_text, c_varchar, "
                        + "c_bool, c_date, c_ts, c_tstz, c_bytea, c_uuid, c_jsonb FROM jdbc_types WHERE id = ?")) {
            select.setInt(1, id);
            try (ResultSet rows = select.executeQuery()) {
                expect(rows.next(), "sample row found");
                expectEquals(-2147483648, rows.getInt(1), "integer");
                expectEquals(9223372036854775807L, rows.getLong(2), "bigint");
                expectEquals((short) -32768, rows.getShort(3), "smallint");
                expectEquals(3.25f, rows.getFloat(4), "real");
                expectEquals(2.718281828459045, rows.getDouble(5), "double precision");
                expectEquals(new BigDecimal("12345678.9012"), rows.getBigDecimal(6), "numeric");
                expectEquals("text with 'quotes', \"double\", tab\t, newline\n and ünïcödé ✓", rows.getString(7), "text");
                expectEquals("varchar value", rows.getString(8), "varchar");
                expectEquals(true, rows.getBoolean(9), "boolean");
                expectEquals("2021-08-19", rows.getDate(10).toString(), "date");
                expectEquals(SAMPLE_TS, rows.getTimestamp(11).toLocalDateTime(), "timestamp");
                OffsetDateTime tstz = rows.getObject(12, OffsetDateTime.class);
                expect(tstz.toInstant().equals(SAMPLE_TSTZ.toInstant()),
                        "timestamptz: expected instant " + SAMPLE_TSTZ.toInstant() + " but got " + tstz);
                expect(Arrays.equals(SAMPLE_BYTES, rows.getBytes(13)),
                        "bytea: got " + Arrays.toString(rows.getBytes(13)));
                expectEquals(SAMPLE_UUID, rows.getObject(14, UUID.class), "uuid");
                expectEquals("{\"a\": 1, \"b\": [true, null]}", rows.getString(15), "jsonb (normalised)");
                expect(!rows.next(), "exactly one sample row");
            }
            select.setInt(1, id + 1);
            try (ResultSet rows = select.executeQuery()) {
                expect(rows.next(), "NULL row found");
                for (int column = 1; column <= 15; column++) {
                    expectEquals(null, rows.getObject(column), "column " + column + " of the NULL row");
                    expect(rows.wasNull(), "wasNull() for column " + column);
                }
                expectEquals(0, rows.getInt(1), "getInt of NULL");
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: JdbcCheck <jdbc-url> <user> <password>");
            System.exit(2);
        }
        String url = args[0];
        Properties credentials = new Properties();
        credentials.setProperty("user", args[1]);
        credentials.setProperty("password", args[2]);
        credentials.setProperty("connectTimeout", "10");
        credentials.setProperty("socketTimeout", "60");

        try (Connection connection = DriverManager.getConnection(url, credentials)) {
            DatabaseMetaData meta = connection.getMetaData();
            System.out.println("connected: " + meta.getDatabaseProductName() + " "
                    + meta.getDatabaseProductVersion() + ", driver " + meta.getDriverVersion());

            check("select_literal", () -> {
                try (Statement statement = connection.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT 1 AS one, 'two' AS two, NULL::int AS three")) {
                    expect(rows.next(), "one row");
                    expectEquals(1, rows.getInt("one"), "one");
                    expectEquals("two", rows.getString("two"), "two");
                    rows.getInt("three");
                    expect(rows.wasNull(), "three is NULL");
                    expectEquals("one", rows.getMetaData().getColumnLabel(1), "column label");
                }
            });

            check("create_tables", () -> {
                try (Statement statement = connection.createStatement()) {
                    statement.execute("DROP TABLE IF EXISTS jdbc_batch");
                    statement.execute("DROP TABLE IF EXISTS jdbc_types");
                    statement.execute(TYPES_TABLE);
                    statement.execute("CREATE TABLE jdbc_batch (id integer PRIMARY KEY, label text NOT NULL, amount numeric(10, 2))");
                }
            });

            check("prepared_parameters_of_each_type", () -> {
                insertSampleRows(connection, 1);
                verifySampleRows(connection, 1);
            });

            check("result_set_metadata_types", () -> {
                try (Statement statement = connection.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT id, c_bigint, c_numeric, c_text, c_bool, c_date, c_tstz, c_bytea FROM jdbc_types WHERE false")) {
                    java.sql.ResultSetMetaData md = rows.getMetaData();
                    expectEquals(8, md.getColumnCount(), "column count");
                    int[] expected = {Types.INTEGER, Types.BIGINT, Types.NUMERIC, Types.VARCHAR, Types.BIT, Types.DATE, Types.TIMESTAMP, Types.BINARY};
                    String[] names = {"int4", "int8", "numeric", "text", "bool", "date", "timestamptz", "bytea"};
                    for (int i = 0; i < expected.length; i++) {
                        expectEquals(expected[i], md.getColumnType(i + 1), "java.sql.Types of column " + (i + 1));
                        expectEquals(names[i], md.getColumnTypeName(i + 1), "type name of column " + (i + 1));
                    }
                }
            });

            check("parameterised_filters", () -> {
                try (PreparedStatement select = connection.prepareStatement(
                        "SELECT count(*) FROM jdbc_types WHERE c_text LIKE ? AND c_bool = ? AND c_date < ?")) {
                    select.setString(1, "text with%");
                    select.setBoolean(2, true);
                    select.setDate(3, Date.valueOf("2022-01-01"));
                    try (ResultSet rows = select.executeQuery()) {
                        rows.next();
                        expectEquals(1L, rows.getLong(1), "matching rows");
                    }
                }
            });

            check("batch_insert_1000_rows", () -> {
                try (PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO jdbc_batch (id, label, amount) VALUES (?, ?, ?)")) {
                    for (int i = 1; i <= 1000; i++) {
                        insert.setInt(1, i);
                        insert.setString(2, "row " + i);
                        insert.setBigDecimal(3, new BigDecimal(i).movePointLeft(2));
                        insert.addBatch();
                    }
                    int[] counts = insert.executeBatch();
                    expectEquals(1000, counts.length, "batch results");
                    for (int updated : counts) {
                        expect(updated == 1 || updated == Statement.SUCCESS_NO_INFO, "each batch row inserts one row, got " + updated);
                    }
                }
                expectEquals(1000L, count(connection, "jdbc_batch"), "rows after the batch");
                try (Statement statement = connection.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT sum(amount), max(label) FROM jdbc_batch")) {
                    rows.next();
                    expectEquals(new BigDecimal("5005.00"), rows.getBigDecimal(1), "sum of amounts");
                    expectEquals("row 999", rows.getString(2), "max label");
                }
            });

            check("transaction_rollback_and_commit", () -> {
                long before = count(connection, "jdbc_batch");
                connection.setAutoCommit(false);
                try (Statement statement = connection.createStatement()) {
                    statement.executeUpdate("INSERT INTO jdbc_batch VALUES (2001, 'rolled back', 1)");
                    statement.executeUpdate("DELETE FROM jdbc_batch WHERE id <= 10");
                    expectEquals(before - 9, count(connection, "jdbc_batch"), "rows inside the transaction");
                    connection.rollback();
                    expectEquals(before, count(connection, "jdbc_batch"), "rows after rollback");
                    statement.executeUpdate("INSERT INTO jdbc_batch VALUES (2002, 'committed', 2)");
                    connection.commit();
                } finally {
                    connection.setAutoCommit(true);
                }
                expectEquals(before + 1, count(connection, "jdbc_batch"), "rows after commit");
                try (Statement statement = connection.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT count(*) FROM jdbc_batch WHERE id = 2001")) {
                    rows.next();
                    expectEquals(0L, rows.getLong(1), "the rolled back row is gone");
                }
            });

            check("savepoint_rollback", () -> {
                connection.setAutoCommit(false);
                try (Statement statement = connection.createStatement()) {
                    statement.executeUpdate("INSERT INTO jdbc_batch VALUES (3001, 'kept', 1)");
                    java.sql.Savepoint savepoint = connection.setSavepoint("sp1");
                    statement.executeUpdate("INSERT INTO jdbc_batch VALUES (3002, 'undone', 1)");
                    connection.rollback(savepoint);
                    connection.commit();
                } finally {
                    connection.setAutoCommit(true);
                }
                try (Statement statement = connection.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT string_agg(label, ',' ORDER BY id) FROM jdbc_batch WHERE id > 3000")) {
                    rows.next();
                    expectEquals("kept", rows.getString(1), "rows kept after the savepoint rollback");
                }
            });

            check("unique_violation_sqlstate_23505", () -> {
                try (Statement statement = connection.createStatement()) {
                    statement.executeUpdate("INSERT INTO jdbc_batch VALUES (1, 'duplicate', 0)");
                    throw new AssertionError("duplicate key accepted");
                } catch (SQLException e) {
                    expectEquals("23505", e.getSQLState(), "SQLSTATE");
                }
                expectEquals(1002L, count(connection, "jdbc_batch"), "connection usable after the error");
            });

            check("error_in_transaction_then_rollback", () -> {
                connection.setAutoCommit(false);
                try (Statement statement = connection.createStatement()) {
                    try {
                        statement.executeQuery("SELECT 1 / 0");
                        throw new AssertionError("division by zero accepted");
                    } catch (SQLException e) {
                        expectEquals("22012", e.getSQLState(), "SQLSTATE of division by zero");
                    }
                    try {
                        statement.executeQuery("SELECT 1");
                        throw new AssertionError("statement accepted in an aborted transaction");
                    } catch (SQLException e) {
                        expectEquals("25P02", e.getSQLState(), "SQLSTATE in an aborted transaction");
                    }
                    connection.rollback();
                } finally {
                    connection.setAutoCommit(true);
                }
                expectEquals(1002L, count(connection, "jdbc_batch"), "connection usable after rollback");
            });

            check("cursor_fetch_with_fetch_size", () -> {
                connection.setAutoCommit(false);
                try (Statement statement = connection.createStatement()) {
                    statement.setFetchSize(100);
                    int rowsSeen = 0;
                    long idSum = 0;
                    try (ResultSet rows = statement.executeQuery("SELECT id FROM jdbc_batch ORDER BY id")) {
                        while (rows.next()) {
                            rowsSeen++;
                            idSum += rows.getInt(1);
                        }
                    }
                    expectEquals(1002, rowsSeen, "rows fetched 100 at a time");
                    expectEquals(500500L + 2002L + 3001L, idSum, "sum of fetched ids");
                    connection.commit();
                } finally {
                    connection.setAutoCommit(true);
                }
            });

            check("metadata_get_tables", () -> {
                List<String> tables = new ArrayList<>();
                try (ResultSet rows = meta.getTables(null, "public", "jdbc%", new String[] {"TABLE"})) {
                    while (rows.next()) {
                        tables.add(rows.getString("TABLE_NAME") + ":" + rows.getString("TABLE_TYPE"));
                    }
                }
                expectEquals(Arrays.asList("jdbc_batch:TABLE", "jdbc_types:TABLE"), tables, "tables");
            });

            check("metadata_get_columns", () -> {
                List<String> columns = new ArrayList<>();
                try (ResultSet rows = meta.getColumns(null, "public", "jdbc_types", "%")) {
                    while (rows.next()) {
                        columns.add(rows.getInt("ORDINAL_POSITION") + " " + rows.getString("COLUMN_NAME") + " "
                                + rows.getString("TYPE_NAME") + " " + rows.getInt("DATA_TYPE") + " "
                                + rows.getString("IS_NULLABLE"));
                    }
                }
                List<String> expected = Arrays.asList(
                        "1 id int4 4 NO", "2 c_int int4 4 YES", "3 c_bigint int8 -5 YES",
                        "4 c_smallint int2 5 YES", "5 c_real float4 7 YES", "6 c_double float8 8 YES",
                        "7 c_numeric numeric 2 YES", "8 c_text text 12 YES", "9 c_varchar varchar 12 YES",
                        "10 c_bool bool -7 YES", "11 c_date date 91 YES", "12 c_ts timestamp 93 YES",
                        "13 c_tstz timestamptz 93 YES", "14 c_bytea bytea -2 YES", "15 c_uuid uuid 1111 YES",
                        "16 c_jsonb jsonb 1111 YES");
                expectEquals(expected, columns, "columns");
                try (ResultSet rows = meta.getColumns(null, "public", "jdbc_types", "c_numeric")) {
                    expect(rows.next(), "c_numeric found");
                    expectEquals(12, rows.getInt("COLUMN_SIZE"), "numeric precision");
                    expectEquals(4, rows.getInt("DECIMAL_DIGITS"), "numeric scale");
                }
                try (ResultSet rows = meta.getColumns(null, "public", "jdbc_types", "c_varchar")) {
                    expect(rows.next(), "c_varchar found");
                    expectEquals(50, rows.getInt("COLUMN_SIZE"), "varchar length");
                }
            });

            check("metadata_get_primary_keys", () -> {
                List<String> keys = new ArrayList<>();
                for (String table : new String[] {"jdbc_types", "jdbc_batch"}) {
                    try (ResultSet rows = meta.getPrimaryKeys(null, "public", table)) {
                        while (rows.next()) {
                            keys.add(rows.getString("TABLE_NAME") + "." + rows.getString("COLUMN_NAME") + "#" + rows.getInt("KEY_SEQ"));
                        }
                    }
                }
                expectEquals(Arrays.asList("jdbc_types.id#1", "jdbc_batch.id#1"), keys, "primary keys");
            });
        }

        // A second connection that turns every PreparedStatement into a named server-side
        // statement at once and reads results in binary.
        String separator = url.contains("?") ? "&" : "?";
        String serverPreparedUrl = url + separator + "prepareThreshold=1&binaryTransfer=true";
        check("server_prepared_binary_transfer", () -> {
            try (Connection connection = DriverManager.getConnection(serverPreparedUrl, credentials)) {
                for (int round = 0; round < 3; round++) {
                    insertSampleRows(connection, 100 + 2 * round);
                }
                for (int round = 0; round < 3; round++) {
                    verifySampleRows(connection, 100 + 2 * round);
                }
                try (PreparedStatement select = connection.prepareStatement(
                        "SELECT id, label, amount FROM jdbc_batch WHERE id BETWEEN ? AND ? ORDER BY id")) {
                    for (int round = 0; round < 5; round++) {
                        select.setInt(1, round * 10 + 1);
                        select.setInt(2, round * 10 + 3);
                        int seen = 0;
                        try (ResultSet rows = select.executeQuery()) {
                            while (rows.next()) {
                                int id = rows.getInt(1);
                                expectEquals(round * 10 + 1 + seen, id, "id in round " + round);
                                expectEquals("row " + id, rows.getString(2), "label");
                                expectEquals(new BigDecimal(id).movePointLeft(2), rows.getBigDecimal(3), "amount");
                                seen++;
                            }
                        }
                        expectEquals(3, seen, "rows in round " + round);
                    }
                }
            }
        });

        check("drop_tables", () -> {
            try (Connection connection = DriverManager.getConnection(url, credentials);
                 Statement statement = connection.createStatement()) {
                statement.execute("DROP TABLE jdbc_batch");
                statement.execute("DROP TABLE jdbc_types");
            }
        });

        System.out.println(failures == 0 ? "all checks passed" : failures + " checks failed");
        System.exit(failures == 0 ? 0 : 1);
    }
}
