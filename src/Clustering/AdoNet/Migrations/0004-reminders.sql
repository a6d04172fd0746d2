-- Reminders: the table Orleans' AdoNetReminderTable (the reminder service's storage) works on.
--
-- A reminder is identified by @ServiceId, @GrainId (the grain id's string form) and @ReminderName. @GrainHash is the
-- grain id's uniform hash, a uint the provider casts to a signed int; the reminder service splits the hash ring among
-- silos and reads reminders by hash range. @StartTime is UTC; @Period is in milliseconds (an int, or a bigint when it
-- does not fit in one). The etag is "Version", changed by every upsert.

CREATE TABLE IF NOT EXISTS orleans_reminders (
    service_id    text        NOT NULL,
    grain_id      text        NOT NULL,
    reminder_name text        NOT NULL,
    grain_hash    integer     NOT NULL,
    start_time    timestamptz NOT NULL,
    period_ms     bigint      NOT NULL,
    version       integer     NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

-- The reminder service's periodic range reads.
CREATE INDEX IF NOT EXISTS orleans_reminders_by_hash ON orleans_reminders (service_id, grain_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- All reminders of one grain. Each row: "GrainId", "ReminderName", "StartTime", "Period" (ms), "Version".
('ReadReminderRowsKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_id = @GrainId;
$q$),

-- One reminder, or no row.
('ReadReminderRowKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName;
$q$),

-- A range of the hash ring, (@BeginHash, @EndHash]: begin excluded, end included. The ring is unsigned but the
-- hashes arrive cast to signed ints, so the provider picks between two queries by comparing the signed values:
-- this one when begin < end (the range is one contiguous stretch of signed integers) ...
('ReadRangeRows1Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash;
$q$),

-- ... and this one when begin >= end: the range wraps past the top of the signed integers, so it is everything
-- above begin plus everything up to end. begin = end is the whole ring.
('ReadRangeRows2Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash);
$q$),

-- Registers or replaces a reminder, unconditionally (the reminder service has no etag to offer here). One row,
-- "Version": the new etag.
('UpsertReminderRowKey', $q$
INSERT INTO orleans_reminders AS r (service_id, grain_id, reminder_name, grain_hash, start_time, period_ms, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @GrainHash, @StartTime, @Period, 1)
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
SET grain_hash = excluded.grain_hash,
    start_time = excluded.start_time,
    period_ms  = excluded.period_ms,
    version    = orleans_next_version(r.version)
RETURNING r.version AS "Version";
$q$),

-- Unregisters a reminder if its etag still is @Version. One boolean column: whether a row was deleted.
('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM orleans_reminders
    WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted);
$q$),

-- Every reminder of the service (the provider's test-only TestOnlyClearTable). No result is read.
('DeleteReminderRowsKey', $q$
DELETE FROM orleans_reminders WHERE service_id = @ServiceId;
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
