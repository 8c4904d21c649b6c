-- API keys: one row per secret, a key's id shared by its secrets while it
-- is rotated. The secret itself is never stored, only its keyed hash
-- (HMAC-SHA-256 under the deployment's pepper).
CREATE TABLE drawbridge.api_keys (
	id         text        NOT NULL,
	hash       bytea       NOT NULL,
	name       text        NOT NULL DEFAULT '',
	scopes     text[]      NOT NULL DEFAULT '{}',
	created_at timestamptz,
	expires_at timestamptz,
	revoked_at timestamptz,
	PRIMARY KEY (id, hash)
);
