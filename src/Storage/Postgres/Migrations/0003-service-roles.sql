-- One login role per service, each with exactly what it does (docs/SECURITY.md). The schema's owner (voting_owner,
-- which applies these scripts) owns every table; the services connect as their own roles:
--   voting_worker   the drainers: upsert votes (the tally trigger runs as the caller, so tallies too)
--   voting_results  the results app: reads the tallies, never a vote
--   voting_web, voting_balancer: nothing here (their Orleans tables are the orleans component's)
-- Every service reads schema_migrations to see that the schema it needs is there. The roles belong to the database
-- server, not to the schema, so whoever sets the server up creates them (./voting and the tests' fixtures,
-- deploy/swarm/postgres/entrypoint.sh); the owner may grant on its tables but create no roles.
GRANT SELECT ON schema_migrations TO voting_worker, voting_web, voting_results, voting_balancer;
GRANT SELECT, INSERT, UPDATE ON votes TO voting_worker;
GRANT SELECT, INSERT, UPDATE ON tallies TO voting_worker;
GRANT SELECT ON tallies TO voting_results;
