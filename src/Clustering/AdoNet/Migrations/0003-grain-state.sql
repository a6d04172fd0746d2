-- Grain state: the table Orleans' AdoNetGrainStorage works on (IPersistentState<T> of grains on an ADO.NET store).
--
-- The provider identifies a grain's state by @ServiceId, @GrainTypeString (for IPersistentState, the state's name),
-- and the grain key split three ways: @GrainIdN0 and @GrainIdN1 (a Guid key's two halves, or 0 and an integer key)
-- and @GrainIdExtensionString (a key extension, or a whole string key; NULL when the grain has neither). It also
-- passes two hashes, @GrainIdHash and @GrainTypeHash, for databases that index by hash; PostgreSQL indexes the real
-- key below, so these queries accept them and do not use them.
--
-- Concurrency: the provider keeps the version it last read or wrote as the grain's etag and sends it back as
-- @GrainStateVersion (NULL for a grain that has never been stored). Every write, clear or delete must only happen if
-- the stored version still is that one, and answers with the new version; it answers NULL (or no row) when it did
-- not happen, and the provider then throws InconsistentStateException.

-- The extension is stored NOT NULL with a separate flag, so that "no extension" (NULL) and an empty extension ('')
-- stay distinct and the whole key can still be one plain, indexable primary key.
CREATE TABLE IF NOT EXISTS orleans_grain_state (
    service_id             text        NOT NULL,
    grain_type             text        NOT NULL,
    grain_id_n0            bigint      NOT NULL,
    grain_id_n1            bigint      NOT NULL,
    grain_id_extension     text        NOT NULL,
    grain_id_has_extension boolean     NOT NULL,
    payload                bytea,
    version                integer     NOT NULL,
    modified_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension, grain_id_has_extension)
);

-- Stores a payload. With no expected version the row must not exist yet: it is created at version 1. Otherwise the
-- stored version must equal the expected one, and goes up by one. Returns the new version, or NULL when the caller's
-- view was stale (including a concurrent first write: the loser of the insert race gets NULL, not an error).
CREATE OR REPLACE FUNCTION orleans_grain_state_write(
    p_service_id text, p_grain_type text, p_grain_id_n0 bigint, p_grain_id_n1 bigint, p_grain_id_extension text,
    p_expected_version integer, p_payload bytea)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    new_version integer;
BEGIN
    IF p_expected_version IS NULL THEN
        INSERT INTO orleans_grain_state (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension,
                                         grain_id_has_extension, payload, version)
        VALUES (p_service_id, p_grain_type, p_grain_id_n0, p_grain_id_n1, coalesce(p_grain_id_extension, ''),
                p_grain_id_extension IS NOT NULL, p_payload, 1)
        ON CONFLICT DO NOTHING
        RETURNING version INTO new_version;
    ELSE
        UPDATE orleans_grain_state
        SET payload = p_payload, version = orleans_next_version(version), modified_at = now()
        WHERE service_id = p_service_id AND grain_type = p_grain_type
          AND grain_id_n0 = p_grain_id_n0 AND grain_id_n1 = p_grain_id_n1
          AND grain_id_extension = coalesce(p_grain_id_extension, '')
          AND grain_id_has_extension = (p_grain_id_extension IS NOT NULL)
          AND version = p_expected_version
        RETURNING version INTO new_version;
    END IF;
    RETURN new_version;
END;
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- A grain's state: at most one row, with the payload in "PayloadBinary" and the etag in "Version". No row means
-- "never stored"; a row whose payload is NULL means "cleared" (the version is kept so the etag never repeats).
('ReadFromStorageKey', $q$
SELECT payload AS "PayloadBinary", version AS "Version"
FROM orleans_grain_state
WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
  AND grain_id_extension = coalesce(@GrainIdExtensionString, '')
  AND grain_id_has_extension = (@GrainIdExtensionString IS NOT NULL);
$q$),

-- Writes @PayloadBinary if @GrainStateVersion is still current. One row, "NewGrainStateVersion": the new version,
-- or NULL on a conflict.
('WriteToStorageKey', $q$
SELECT orleans_grain_state_write(
    p_service_id => @ServiceId, p_grain_type => @GrainTypeString,
    p_grain_id_n0 => @GrainIdN0, p_grain_id_n1 => @GrainIdN1, p_grain_id_extension => @GrainIdExtensionString,
    p_expected_version => @GrainStateVersion, p_payload => @PayloadBinary) AS "NewGrainStateVersion";
$q$),

-- Clears a grain's state (the default, DeleteStateOnClear = false): the payload becomes NULL and the version moves
-- on, so a writer still holding the old etag is refused afterwards. One row, one column: the new version, or NULL
-- when @GrainStateVersion is not current (or NULL: the provider only clears a state it has read).
('ClearStorageKey', $q$
WITH cleared AS (
    UPDATE orleans_grain_state
    SET payload = NULL, version = orleans_next_version(version), modified_at = now()
    WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension = coalesce(@GrainIdExtensionString, '')
      AND grain_id_has_extension = (@GrainIdExtensionString IS NOT NULL)
      AND version = @GrainStateVersion
    RETURNING version
)
SELECT (SELECT version FROM cleared) AS "NewGrainStateVersion";
$q$),

-- Deletes a grain's row (only used with DeleteStateOnClear = true) if @GrainStateVersion is current. One row, one
-- column: NULL on a conflict, otherwise any value other than the caller's version (the provider then forgets the
-- etag); this answers the version the row would have had next.
('DeleteStorageKey', $q$
WITH deleted AS (
    DELETE FROM orleans_grain_state
    WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension = coalesce(@GrainIdExtensionString, '')
      AND grain_id_has_extension = (@GrainIdExtensionString IS NOT NULL)
      AND version = @GrainStateVersion
    RETURNING version
)
SELECT (SELECT orleans_next_version(version) FROM deleted) AS "NewGrainStateVersion";
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
