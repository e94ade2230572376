/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append, never edit.
 * Times are Unix milliseconds. No column ever holds a plaintext secret: tickets keep sha256(verifier),
 * ticketmasters a bcrypt hash, jobs a password sealed to one agent's public key (nulled when done).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ticketmasters (
    id          TEXT PRIMARY KEY,            -- public lookup part of the token
    name        TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,               -- bcrypt of the secret part
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  ) STRICT;

  CREATE TABLE tickets (
    selector      TEXT PRIMARY KEY,
    verifier_hash BLOB NOT NULL,             -- sha256(verifier)
    issuer_id     TEXT NOT NULL REFERENCES ticketmasters(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    uses_allowed  INTEGER NOT NULL CHECK (uses_allowed >= 1),
    uses          INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= uses_allowed),
    revoked_at    INTEGER
  ) STRICT;
  CREATE INDEX tickets_by_issuer ON tickets (issuer_id);

  CREATE TABLE requests (
    id                TEXT PRIMARY KEY,      -- opaque, random, shown to the user
    username          TEXT NOT NULL,         -- folded
    ticket_selector   TEXT NOT NULL REFERENCES tickets(selector),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'created', 'failed')),
    created_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    ticket_returned_at INTEGER               -- set once when a failure gave the ticket's use back
  ) STRICT;
  CREATE INDEX requests_by_ticket ON requests (ticket_selector);

  -- The registry of names: UNIQUE on the folded name is what refuses a second account of the same name.
  CREATE TABLE usernames (
    username    TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL UNIQUE REFERENCES requests(id),
    reserved_at INTEGER NOT NULL
  ) STRICT;

  -- The outbox: one job per request and Jitsi server.
  CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL REFERENCES requests(id),
    server          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'created', 'conflict', 'dead')),
    sealed_password TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    updated_at      INTEGER NOT NULL,
    UNIQUE (request_id, server)
  ) STRICT;
  CREATE INDEX jobs_due ON jobs (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX jobs_dead ON jobs (updated_at) WHERE status = 'dead';

  -- Who invited whom, with timestamps and never a secret.
  CREATE TABLE audit (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    event           TEXT NOT NULL,
    ticketmaster    TEXT,
    ticket_selector TEXT,
    username        TEXT,
    request_id      TEXT,
    detail          TEXT
  ) STRICT;
  CREATE INDEX audit_by_at ON audit (at);
  `,
  // Failed requests a ticket has had (conflicts included): each gives the use back only while these stay within
  // RETURNS_PER_USE per use, so one ticket cannot buy an unbounded number of redemptions (tickets.ts).
  // failure_counted: set once per request, so an admin's retry that fails again is not counted twice.
  `ALTER TABLE tickets ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE requests ADD COLUMN failure_counted INTEGER NOT NULL DEFAULT 0;`,
  // Server status 'failed': the agent refused the job for good (a reason no retry can fix), not 'dead' (gave up
  // reaching it). SQLite cannot change a CHECK, so the table is rebuilt; nothing references jobs.
  `CREATE TABLE jobs_v3 (
    id              TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL REFERENCES requests(id),
    server          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'created', 'conflict', 'dead', 'failed')),
    sealed_password TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    updated_at      INTEGER NOT NULL,
    UNIQUE (request_id, server)
  ) STRICT;
  INSERT INTO jobs_v3 (id, request_id, server, status, sealed_password, attempts, next_attempt_at, last_error, updated_at)
    SELECT id, request_id, server, status, sealed_password, attempts, next_attempt_at, last_error, updated_at FROM jobs;
  DROP TABLE jobs;
  ALTER TABLE jobs_v3 RENAME TO jobs;
  CREATE INDEX jobs_due ON jobs (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX jobs_dead ON jobs (updated_at) WHERE status = 'dead';`,
  // One row the dispatcher rewrites while the disk is full, to learn when there is room again (storage-health.ts).
  `CREATE TABLE storage_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL) STRICT;`,
  // The confusable skeleton (UTS #39) of each reserved name: UNIQUE, so no name can be reserved that looks like
  // another. Rows from before are filled in by db.ts (backfillSkeletons); two old lookalikes keep one NULL.
  `ALTER TABLE usernames ADD COLUMN skeleton TEXT;
   CREATE UNIQUE INDEX usernames_by_skeleton ON usernames (skeleton);`,
];
