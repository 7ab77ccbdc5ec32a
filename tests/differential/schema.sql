-- The customer-360 schema of the differential suite. Customers, products and tickets are
-- loaded by the harness from ../shared/data/customer_support_tickets.csv (normalisation in
-- tests/src/customer360.rs); the two small reference tables below are fixed data.
-- Statements are separated by semicolons; the harness runs them one by one on both servers.

CREATE TABLE customers (
    id integer PRIMARY KEY,
    name text NOT NULL,
    email varchar(120) NOT NULL UNIQUE,
    age smallint NOT NULL CHECK (age BETWEEN 0 AND 120),
    gender text NOT NULL CHECK (gender IN ('Male', 'Female', 'Other')),
    profile jsonb NOT NULL
);

CREATE TABLE products (
    id integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    brand text NOT NULL,
    category text NOT NULL,
    price numeric(8, 2) NOT NULL CHECK (price > 0),
    tags text[] NOT NULL
);

CREATE TABLE tickets (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    product_id integer NOT NULL REFERENCES products (id),
    purchase_date date NOT NULL,
    ticket_type text NOT NULL,
    subject text NOT NULL,
    description text NOT NULL,
    status text NOT NULL CHECK (status IN ('Open', 'Pending Customer Response', 'Closed')),
    resolution text,
    priority text NOT NULL,
    channel text NOT NULL,
    first_response_at timestamptz,
    resolved_at timestamp,
    satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5)
);

CREATE INDEX tickets_customer_id_idx ON tickets (customer_id);
CREATE INDEX tickets_status_priority_idx ON tickets (status, priority);

-- Service levels per ticket priority.
CREATE TABLE priorities (
    name text PRIMARY KEY,
    rank smallint NOT NULL UNIQUE,
    sla_hours integer NOT NULL CHECK (sla_hours > 0)
);

INSERT INTO priorities (name, rank, sla_hours) VALUES
    ('Critical', 1, 4),
    ('High', 2, 24),
    ('Medium', 3, 72),
    ('Low', 4, 168);

-- Marketing campaigns, by product name: some name no product, some products have none (for
-- outer joins), and some values are NULL.
CREATE TABLE campaigns (
    id integer PRIMARY KEY,
    product_name text NOT NULL,
    starts_on date NOT NULL,
    ends_on date,
    budget numeric(10, 2),
    channel text,
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);

INSERT INTO campaigns (id, product_name, starts_on, ends_on, budget, channel) VALUES
    (1, 'iPhone', '2020-03-01', '2020-04-15', 25000.00, 'Social media'),
    (2, 'GoPro Hero', '2020-06-01', '2020-08-31', 12000.50, 'Email'),
    (3, 'LG Smart TV', '2021-11-20', '2021-12-31', 40000.00, NULL),
    (4, 'Nokia 3310', '2020-01-01', '2020-12-31', 5000.00, 'Phone'),
    (5, 'Dell XPS', '2021-01-10', NULL, NULL, 'Email'),
    (6, 'Sony PlayStation', '2020-11-01', '2021-01-31', 55000.00, 'Social media'),
    (7, 'Tesla Model 3', '2021-05-01', '2021-05-31', 99000.00, 'Chat'),
    (8, 'iPhone', '2021-09-15', '2021-10-31', 30000.00, 'Email');
