-- psql expected-output test: the describe commands (\d, \dt, \d+, \di, \dn, \dv, \df) on a
-- small schema. They run psql's own catalog queries against the server.
CREATE TABLE shops (
    id integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    city varchar(40) DEFAULT 'unknown',
    opened date
);
CREATE TABLE sales (
    id bigint PRIMARY KEY,
    shop_id integer NOT NULL REFERENCES shops (id),
    sold_at timestamptz NOT NULL,
    amount numeric(12, 2) NOT NULL CHECK (amount > 0),
    note text
);
CREATE INDEX sales_shop_sold_idx ON sales (shop_id, sold_at);
CREATE VIEW big_sales AS SELECT id, shop_id, amount FROM sales WHERE amount > 1000;
\d
\dt
\d shops
\d sales
\d+ sales
\di
\dn
\dv
\d big_sales
\df
\dt no_such_*
DROP VIEW big_sales;
DROP TABLE sales;
DROP TABLE shops;
\dt
