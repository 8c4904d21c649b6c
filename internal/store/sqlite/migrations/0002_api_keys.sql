-- API keys: one row per secret, a key's id shared by its secrets while it
-- is rotated. The secret itself is never stored, only its keyed hash
-- (HMAC-SHA-256 under the deployment's pepper). Scopes are space
-- separated. Times are Unix microseconds (UTC); NULL is the zero time.
CREATE TABLE api_keys (
	id         TEXT    NOT NULL,
	hash       BLOB    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	scopes     TEXT    NOT NULL DEFAULT '',
	created_at INTEGER,
	expires_at INTEGER,
	revoked_at INTEGER,
	PRIMARY KEY (id, hash)
) WITHOUT ROWID;
