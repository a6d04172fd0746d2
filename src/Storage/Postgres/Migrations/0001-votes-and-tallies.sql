-- One row per voter: their latest vote, ordered by (voted_at, vote_id).
CREATE TABLE IF NOT EXISTS votes (
    voter_id    uuid        PRIMARY KEY,
    option      text        NOT NULL,
    voted_at    timestamptz NOT NULL,
    vote_id     uuid        NOT NULL,
    frontend_id text        NOT NULL
);

-- Counts per option, split into slots so that concurrent writers rarely wait for the same row.
-- A slot's count may go negative (a vote counted in one slot, changed through another); the sum per option is exact.
CREATE TABLE IF NOT EXISTS tallies (
    option text     NOT NULL,
    slot   smallint NOT NULL,
    count  bigint   NOT NULL,
    PRIMARY KEY (option, slot)
);

-- Tallies follow the rows PostgreSQL actually inserted, updated or deleted, as reported in the statement's
-- transition tables. These see the true old row even when ON CONFLICT waited for a concurrent transaction, so the
-- tallies equal `SELECT option, count(*) FROM votes GROUP BY option` after every commit.
CREATE OR REPLACE FUNCTION voting_apply_tally_delta() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tallies AS t (option, slot, count)
        SELECT option, pg_backend_pid() % 16, count(*) FROM new_rows GROUP BY option ORDER BY option
        ON CONFLICT (option, slot) DO UPDATE SET count = t.count + excluded.count;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO tallies AS t (option, slot, count)
        SELECT option, pg_backend_pid() % 16, sum(delta)
        FROM (SELECT option, 1 AS delta FROM new_rows
              UNION ALL
              SELECT option, -1 AS delta FROM old_rows) AS changes
        GROUP BY option
        HAVING sum(delta) <> 0
        ORDER BY option
        ON CONFLICT (option, slot) DO UPDATE SET count = t.count + excluded.count;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tallies AS t (option, slot, count)
        SELECT option, pg_backend_pid() % 16, -count(*) FROM old_rows GROUP BY option ORDER BY option
        ON CONFLICT (option, slot) DO UPDATE SET count = t.count + excluded.count;
    ELSIF TG_OP = 'TRUNCATE' THEN
        DELETE FROM tallies;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER votes_tally_insert AFTER INSERT ON votes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voting_apply_tally_delta();

CREATE OR REPLACE TRIGGER votes_tally_update AFTER UPDATE ON votes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voting_apply_tally_delta();

CREATE OR REPLACE TRIGGER votes_tally_delete AFTER DELETE ON votes
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voting_apply_tally_delta();

CREATE OR REPLACE TRIGGER votes_tally_truncate AFTER TRUNCATE ON votes
    FOR EACH STATEMENT EXECUTE FUNCTION voting_apply_tally_delta();
