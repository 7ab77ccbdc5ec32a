-- psql expected-output test: \l (databases) and \dx (extensions).
-- Their output differs between PostgreSQL and custos by design, so custos is checked against
-- databases_and_extensions.custos.out instead of the .out file: a PostgreSQL cluster also has
-- the databases postgres, template0 and template1 and the extension plpgsql, while a custos
-- server has the one database custos (owner custos, UTF8, C.UTF-8, libc) and no extensions.
-- (The .custos.out file is PostgreSQL's output of `\l custos` and `\dx no_such_extension`.)
\l
\dx
