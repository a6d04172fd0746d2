-- Membership: the table Orleans' AdoNetClusteringTable (silos) and AdoNetGatewayListProvider (clients) work on.
--
-- The provider passes the cluster id as @DeploymentId and a silo's identity as @Address (text), @Port and
-- @Generation. Orleans' membership protocol needs a table version besides the rows: every change to a row (a silo
-- joining, a status change, a suspicion vote) must also move the table version on, and must fail when the version
-- the writer read is no longer the current one. That is a compare-and-swap on one row per cluster, below.

-- One row per cluster: its table version. The provider hands the version out as the table's etag and parses it back
-- as a non-negative int (see orleans_next_version).
CREATE TABLE IF NOT EXISTS orleans_membership_version (
    deployment_id text        PRIMARY KEY,
    version       integer     NOT NULL DEFAULT 0,
    changed_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per silo incarnation. A silo that restarts on the same address and port has a new generation, so it gets
-- a new row; the old one stays (status Dead) until defunct-entry cleanup removes it.
-- status holds Orleans' SiloStatus as an integer: 3 = Active, 6 = Dead.
-- suspect_times is the provider's own text encoding of the suspicion votes ("silo,time|silo,time"), kept verbatim.
CREATE TABLE IF NOT EXISTS orleans_membership (
    deployment_id   text        NOT NULL REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE,
    address         text        NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          integer     NOT NULL,
    proxy_port      integer     NOT NULL,
    suspect_times   text,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Inserts a silo's row and moves the table version on, both or neither. False when the table version is no longer
-- expected_version (someone else changed the table since the caller read it) or when the row already exists.
-- Lock order, here and in orleans_membership_update: the version row first, then the member row, so that two writers
-- can only ever queue behind each other, never deadlock.
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    p_deployment_id text, p_address text, p_port integer, p_generation integer,
    p_silo_name text, p_host_name text, p_status integer, p_proxy_port integer,
    p_start_time timestamptz, p_i_am_alive_time timestamptz, p_expected_version integer)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    -- Under READ COMMITTED a concurrent writer that bumped the version first makes this UPDATE re-check the row
    -- after that writer commits, and then find no match: exactly one writer wins each version.
    UPDATE orleans_membership_version
    SET version = orleans_next_version(version), changed_at = now()
    WHERE deployment_id = p_deployment_id AND version = p_expected_version;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                    proxy_port, suspect_times, start_time, i_am_alive_time)
    VALUES (p_deployment_id, p_address, p_port, p_generation, coalesce(p_silo_name, ''), coalesce(p_host_name, ''),
            p_status, p_proxy_port, NULL, p_start_time, p_i_am_alive_time);
    RETURN true;
EXCEPTION
    -- The row exists already. Leaving the block through its handler rolls back the version bump above too.
    WHEN unique_violation THEN
        RETURN false;
END;
$fn$;

-- Updates a silo's status, suspicion votes and liveness time and moves the table version on, both or neither. False
-- when the table version is no longer expected_version or when the row does not exist.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    p_deployment_id text, p_address text, p_port integer, p_generation integer,
    p_status integer, p_suspect_times text, p_i_am_alive_time timestamptz, p_expected_version integer)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE orleans_membership_version
    SET version = orleans_next_version(version), changed_at = now()
    WHERE deployment_id = p_deployment_id AND version = p_expected_version;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership
    SET status = p_status, suspect_times = p_suspect_times, i_am_alive_time = p_i_am_alive_time
    WHERE deployment_id = p_deployment_id AND address = p_address AND port = p_port AND generation = p_generation;
    IF NOT FOUND THEN
        -- Undo the version bump: raising into this block's own handler rolls the whole block back.
        RAISE no_data_found;
    END IF;
    RETURN true;
EXCEPTION
    WHEN no_data_found THEN
        RETURN false;
END;
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Creates the cluster's version row (version 0) unless it exists. One boolean column: whether it was created.
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO orleans_membership_version (deployment_id) VALUES (@DeploymentId)
    ON CONFLICT (deployment_id) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM created);
$q$),

-- The whole table: one row per silo, each carrying the table version in "Version", all read in one snapshot so the
-- version matches the rows. The provider takes the version from the first row and treats a row whose "StartTime" is
-- NULL as "no silo", so a cluster without silos yields one row of NULLs and its version; a cluster that has no
-- version row yet yields version 0, which no insert or update can match.
('MembershipReadAllKey', $q$
SELECT coalesce(v.version, 0)  AS "Version",
       m.address               AS "Address",
       m.port                  AS "Port",
       m.generation            AS "Generation",
       m.silo_name             AS "SiloName",
       m.host_name             AS "HostName",
       m.status                AS "Status",
       m.proxy_port            AS "ProxyPort",
       m.suspect_times         AS "SuspectTimes",
       m.start_time            AS "StartTime",
       m.i_am_alive_time       AS "IAmAliveTime"
FROM (SELECT @DeploymentId AS deployment_id) AS cluster
LEFT JOIN orleans_membership_version AS v ON v.deployment_id = cluster.deployment_id
LEFT JOIN orleans_membership AS m ON m.deployment_id = v.deployment_id;
$q$),

-- One silo's row in the same shape as MembershipReadAllKey: the table version always comes back, the silo's columns
-- only if it has a row.
('MembershipReadRowKey', $q$
SELECT coalesce(v.version, 0)  AS "Version",
       m.address               AS "Address",
       m.port                  AS "Port",
       m.generation            AS "Generation",
       m.silo_name             AS "SiloName",
       m.host_name             AS "HostName",
       m.status                AS "Status",
       m.proxy_port            AS "ProxyPort",
       m.suspect_times         AS "SuspectTimes",
       m.start_time            AS "StartTime",
       m.i_am_alive_time       AS "IAmAliveTime"
FROM (SELECT @DeploymentId AS deployment_id) AS cluster
LEFT JOIN orleans_membership_version AS v ON v.deployment_id = cluster.deployment_id
LEFT JOIN orleans_membership AS m
       ON m.deployment_id = v.deployment_id
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation;
$q$),

-- A joining silo's row, conditional on the table version (@Version is the etag the caller read). One boolean column.
('InsertMembershipKey', $q$
SELECT orleans_membership_insert(
    p_deployment_id => @DeploymentId, p_address => @Address, p_port => @Port, p_generation => @Generation,
    p_silo_name => @SiloName, p_host_name => @HostName, p_status => @Status, p_proxy_port => @ProxyPort,
    p_start_time => @StartTime, p_i_am_alive_time => @IAmAliveTime, p_expected_version => @Version);
$q$),

-- A status change or suspicion vote, conditional on the table version. One boolean column.
('UpdateMembershipKey', $q$
SELECT orleans_membership_update(
    p_deployment_id => @DeploymentId, p_address => @Address, p_port => @Port, p_generation => @Generation,
    p_status => @Status, p_suspect_times => @SuspectTimes, p_i_am_alive_time => @IAmAliveTime,
    p_expected_version => @Version);
$q$),

-- The liveness heartbeat: only the silo's own row, unconditionally, and the table version does not move (Orleans
-- does not treat a heartbeat as a membership change). No result is read.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership
SET i_am_alive_time = @IAmAliveTime
WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation;
$q$),

-- The gateways a client may connect to: silos whose status is @Status (the provider asks for Active) and that have
-- a gateway port. The provider builds each gateway's address from "Address", "ProxyPort" and "Generation".
('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
FROM orleans_membership
WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0;
$q$),

-- Forgets a cluster: its version row, and through ON DELETE CASCADE its silos' rows (version row first, the same
-- lock order as the insert and update functions). No result is read.
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId;
$q$),

-- Defunct-entry cleanup in bulk: rows of silos declared Dead (6) whose last heartbeat is older than @IAmAliveTime.
-- The 10.x provider runs this only when CleanupDefunctSiloEntryKey below is absent; it is kept because the provider
-- requires the key to exist. The table version does not move: dead rows carry no liveness information anyone waits on.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime;
$q$),

-- Defunct-entry cleanup row by row (optional key; the 10.x provider prefers it when present). The provider reads the
-- table, picks the Dead rows it considers defunct, and for each passes back what it saw: the silo's identity plus
-- @StartTime, @IAmAliveTime and @SuspectTimes. The row goes only if it still is exactly that dead row, so a row that
-- changed since the read (a newer suspicion vote, a heartbeat) is left alone. A missing vote list may come back as
-- NULL or as an empty string: both mean "no votes".
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
  AND status = 6
  AND start_time = @StartTime
  AND i_am_alive_time = @IAmAliveTime
  AND coalesce(suspect_times, '') = coalesce(@SuspectTimes, '');
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
