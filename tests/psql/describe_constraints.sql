-- psql expected-output test: \d of tables whose CHECK constraints, defaults, generated
-- columns and foreign keys psql prints through pg_get_constraintdef and pg_get_expr
-- (PostgreSQL's deparsed expressions: implicit casts, IN as = ANY, BETWEEN expanded, LIKE
-- as ~~, CASE over lines).
CREATE TABLE teams (
    id serial PRIMARY KEY,
    code char(4) NOT NULL UNIQUE,
    name varchar(60) NOT NULL DEFAULT 'unnamed',
    budget numeric(10, 2) DEFAULT 0 CHECK (budget >= 0),
    CONSTRAINT code_letters CHECK (code ~ '^[A-Z]+$')
);
CREATE TABLE tasks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id integer REFERENCES teams (id) ON DELETE CASCADE,
    parent_id bigint REFERENCES tasks (id) ON UPDATE SET NULL ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'blocked', 'done')),
    priority smallint DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    owner_email varchar(100) CHECK (owner_email LIKE '%@%'),
    opened_at timestamptz NOT NULL DEFAULT now(),
    due date DEFAULT CURRENT_DATE,
    estimate real DEFAULT -1,
    hours integer,
    cost numeric GENERATED ALWAYS AS (hours * 12.5) STORED,
    labels text[] DEFAULT '{}',
    CONSTRAINT due_after_open CHECK (due IS NULL OR due >= opened_at::date),
    CONSTRAINT sane_estimate CHECK (CASE WHEN status = 'done' THEN estimate IS NOT NULL ELSE true END),
    CONSTRAINT hours_known CHECK (hours IS NOT NULL OR status <> 'done' AND coalesce(estimate, 0) > 0)
);
CREATE INDEX tasks_team_priority_idx ON tasks (team_id, priority);
\d teams
\d tasks
DROP TABLE tasks;
DROP TABLE teams;
