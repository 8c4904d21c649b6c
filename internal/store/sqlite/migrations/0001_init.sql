-- The device registry and the operators' controls. Times are Unix
-- microseconds (UTC); NULL is the zero time.
CREATE TABLE devices (
	app        TEXT    NOT NULL,
	key_id     TEXT    NOT NULL,
	platform   TEXT    NOT NULL,
	public_key BLOB    NOT NULL,
	counter    INTEGER NOT NULL DEFAULT 0 CHECK (counter >= 0),
	bound_key  TEXT    NOT NULL DEFAULT '',
	facts      BLOB,
	first_seen INTEGER,
	last_seen  INTEGER,
	revoked_at INTEGER,
	PRIMARY KEY (app, key_id)
) WITHOUT ROWID;

-- Snapshot reads the revoked devices only.
CREATE INDEX devices_revoked ON devices (app, key_id) WHERE revoked_at IS NOT NULL;

CREATE TABLE blocked_versions (
	app     TEXT NOT NULL,
	version TEXT NOT NULL,
	PRIMARY KEY (app, version)
) WITHOUT ROWID;

CREATE TABLE token_cutoffs (
	app    TEXT    NOT NULL PRIMARY KEY,
	cutoff INTEGER NOT NULL
) WITHOUT ROWID;

-- One row: the generation of the controls and revocations, moved in the
-- transaction of every change.
CREATE TABLE control (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL
);
INSERT INTO control (id, generation) VALUES (1, 0);
