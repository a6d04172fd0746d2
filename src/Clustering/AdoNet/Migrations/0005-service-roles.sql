-- What each service's login role does with Orleans' tables (docs/SECURITY.md; the roles are described in the voting
-- component's 0003-service-roles.sql):
--   silos (voting_worker, voting_web): the membership table with Clustering:Provider AdoNet, the reminder table
--     (every silo runs the reminder service, a ring over all silos); grain state on the worker silos only
--   Orleans clients (voting_results, voting_balancer): read the membership table to find gateways (AdoNet)
-- Everybody reads the query catalogue, the statements the providers run, and schema_migrations, the migrator's
-- record (absent when these scripts are run by hand, outside the migrator).
DO $$ BEGIN
  IF to_regclass('schema_migrations') IS NOT NULL THEN
    GRANT SELECT ON schema_migrations TO voting_worker, voting_web, voting_results, voting_balancer;
  END IF;
END $$;
GRANT SELECT ON OrleansQuery TO voting_worker, voting_web, voting_results, voting_balancer;
GRANT SELECT, INSERT, UPDATE, DELETE ON orleans_membership_version, orleans_membership TO voting_worker, voting_web;
GRANT SELECT ON orleans_membership_version, orleans_membership TO voting_results, voting_balancer;
GRANT SELECT, INSERT, UPDATE, DELETE ON orleans_reminders TO voting_worker, voting_web;
GRANT SELECT, INSERT, UPDATE, DELETE ON orleans_grain_state TO voting_worker;
