-- The device registry and the operators' controls, in schema drawbridge.

-- AdvanceCounter rewrites a row on every assertion; room left on each
-- page (fillfactor 90) keeps those updates HOT (no index writes, as no
-- indexed column changes).
CREATE TABLE drawbridge.devices (
	app        text        NOT NULL,
	key_id     text        NOT NULL,
	platform   text        NOT NULL,
	public_key bytea       NOT NULL,
	counter    bigint      NOT NULL DEFAULT 0 CHECK (counter >= 0),
	bound_key  text        NOT NULL DEFAULT '',
	-- bytea, not jsonb: the verifier's bytes round-trip exactly.
	facts      bytea,
	first_seen timestamptz,
	last_seen  timestamptz,
	revoked_at timestamptz,
	PRIMARY KEY (app, key_id)
) WITH (fillfactor = 90);

-- Snapshot reads the revoked devices only.
CREATE INDEX devices_revoked ON drawbridge.devices (app, key_id) WHERE revoked_at IS NOT NULL;

CREATE TABLE drawbridge.blocked_versions (
	app     text NOT NULL,
	version text NOT NULL,
	PRIMARY KEY (app, version)
);

CREATE TABLE drawbridge.token_cutoffs (
	app    text        PRIMARY KEY,
	cutoff timestamptz NOT NULL
);

-- One row: the generation of the controls and revocations, moved in the
-- transaction of every change (its row lock also orders the changes).
CREATE TABLE drawbridge.control (
	id         int    PRIMARY KEY CHECK (id = 1),
	generation bigint NOT NULL
);
INSERT INTO drawbridge.control (id, generation) VALUES (1, 0);
