-- Orleans' ADO.NET providers (clustering, grain storage, reminders) ship no SQL of their own to run: at start-up
-- each provider executes the fixed statement
--     SELECT QueryKey, QueryText FROM OrleansQuery
-- and from then on runs the text stored under each query key, binding its parameters by name (@Name). This table
-- is that catalogue. Its name and both column names are fixed by that statement; they are unquoted there, so
-- PostgreSQL folds them to orleansquery, querykey and querytext, which is what this creates.
-- The grain-storage provider picks its rows with Single(), so a key must appear at most once: it is the key.
CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  text PRIMARY KEY,
    QueryText text NOT NULL
);

-- Every optimistic-concurrency counter in these tables (membership table version, grain state version, reminder
-- etag) is a 32-bit integer, because the providers parse the etags they get back as int. A counter only has to
-- differ from the value a caller last saw, so instead of overflowing after 2^31 writes it wraps to 1. It never
-- becomes negative: the clustering provider refuses a table version etag with a sign.
CREATE OR REPLACE FUNCTION orleans_next_version(current_version integer) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    SELECT CASE WHEN current_version >= 2147483647 THEN 1 ELSE current_version + 1 END;
$fn$;
