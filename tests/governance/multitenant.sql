-- A multi-tenant CRM on custos: tenants isolated by row-level security, sales reps who see
-- only their own accounts, an analyst who sees masked PII, a PCI officer allowed to
-- detokenize card numbers, and an auditor who reads the audit trail.
--
-- Run it as the superuser on a server started with a token key file, e.g.
--   printf '* 1 %s\n' "$(openssl rand -hex 32)" > ~/custos-token.keys
--   CUSTOS_TOKEN_KEY_FILE=~/custos-token.keys custos serve --data-dir DIR
--   psql -h 127.0.0.1 -p 5433 -U custos custos -f tests/governance/multitenant.sql
-- (tests/tests/multitenant_example.rs runs it and checks what every role sees.)

-- Roles. Each login's tenant is a claim that only a superuser or ALTER ROLE ... SET can give:
-- a session cannot SET it to another tenant.
CREATE ROLE sales_reps NOLOGIN;
CREATE ROLE alice LOGIN PASSWORD 'alice-secret';
CREATE ROLE bob LOGIN PASSWORD 'bob-secret';
CREATE ROLE carol LOGIN PASSWORD 'carol-secret';
GRANT sales_reps TO alice, bob, carol;
CREATE ROLE analyst LOGIN PASSWORD 'analyst-secret';
CREATE ROLE pci_officer LOGIN PASSWORD 'pci_officer-secret';
CREATE ROLE custos_audit_reader NOLOGIN;
CREATE ROLE auditor LOGIN PASSWORD 'auditor-secret';
GRANT custos_audit_reader TO auditor;
ALTER ROLE alice SET custos.claim.tenant_id = '1';
ALTER ROLE bob SET custos.claim.tenant_id = '1';
ALTER ROLE carol SET custos.claim.tenant_id = '2';
ALTER ROLE analyst SET custos.claim.tenant_id = '1';
ALTER ROLE pci_officer SET custos.claim.tenant_id = '1';

-- Accounts, with the notes embedded inside the server for semantic search and RAG.
CREATE TABLE crm_accounts (
    id bigint PRIMARY KEY,
    tenant_id int NOT NULL,
    rep text NOT NULL,
    company text NOT NULL,
    contact_email text NOT NULL,
    phone text,
    card_number text,
    notes text,
    notes_vec vector(384) GENERATED ALWAYS AS (embed(notes)) STORED
);
CREATE INDEX crm_accounts_tenant_idx ON crm_accounts (tenant_id);
CREATE INDEX crm_accounts_notes_idx ON crm_accounts USING hnsw (notes_vec vector_cosine_ops);

-- Row-level security: a tenant never sees another tenant's rows (restrictive), a sales rep
-- sees and writes only the accounts they own, the back office reads its tenant's accounts.
ALTER TABLE crm_accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_accounts AS RESTRICTIVE
    USING (tenant_id = current_setting('custos.claim.tenant_id')::int)
    WITH CHECK (tenant_id = current_setting('custos.claim.tenant_id')::int);
CREATE POLICY reps_own_accounts ON crm_accounts TO sales_reps
    USING (rep = current_user) WITH CHECK (rep = current_user);
CREATE POLICY back_office_reads ON crm_accounts FOR SELECT TO analyst, pci_officer
    USING (true);
GRANT SELECT, INSERT, UPDATE ON crm_accounts TO sales_reps;
GRANT SELECT ON crm_accounts TO analyst, pci_officer;

-- Dynamic masking (PostgreSQL Anonymizer's grammar): the analyst sees masked contacts.
SECURITY LABEL FOR anon ON ROLE analyst IS 'MASKED';
SECURITY LABEL FOR anon ON COLUMN crm_accounts.contact_email
    IS 'MASKED WITH FUNCTION anon.partial_email(contact_email)';
SECURITY LABEL FOR anon ON COLUMN crm_accounts.phone
    IS 'MASKED WITH FUNCTION anon.partial(phone, 3, ''*******'', 2)';

-- Tokenization: card numbers are stored as format-preserving tokens (last four kept, never
-- Luhn-valid); only the PCI officer may turn a token back into the number.
SECURITY LABEL FOR custos ON COLUMN crm_accounts.card_number IS 'TOKENIZE WITH DOMAIN pan';
GRANT EXECUTE ON FUNCTION detokenize(text) TO pci_officer;

INSERT INTO crm_accounts (id, tenant_id, rep, company, contact_email, phone, card_number, notes)
VALUES
    (1, 1, 'alice', 'Acme Corp', 'jane.doe@acme.example', '+1 415 555 0100',
     '4111111111111111', 'Renewal at risk: unhappy with support response times, may churn.'),
    (2, 1, 'alice', 'Globex', 'h.simpson@globex.example', '+1 415 555 0101',
     '5555555555554444', 'Expanding to three new regions; wants a volume discount.'),
    (3, 1, 'bob', 'Initech', 'peter@initech.example', '+1 212 555 0199',
     '4012888888881881', 'Billing dispute over duplicate invoices, threatening to cancel.'),
    (4, 2, 'carol', 'Umbrella', 'a.wesker@umbrella.example', '+44 20 7946 0000',
     '378282246310005', 'Happy customer; asked about the new analytics add-on.');
