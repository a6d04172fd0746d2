-- The sealed count of a closed poll (docs/SEALING.md): the signed manifest and its public key, and the ballots it was
-- made from, as they are published (a pseudonym, never a voter id). Written once per poll, in the transaction that
-- read the votes: a second seal reads these back (the same root), and a vote written after the seal changes nothing.
CREATE TABLE IF NOT EXISTS seals (
    poll_id     text        PRIMARY KEY,
    sealed_at   timestamptz NOT NULL,
    merkle_root text        NOT NULL,
    manifest    bytea       NOT NULL,
    public_key  text        NOT NULL
);

CREATE TABLE IF NOT EXISTS sealed_ballots (
    poll_id     text  NOT NULL,
    pseudonym   bytea NOT NULL,
    option      text  NOT NULL,
    vote_id     uuid  NOT NULL,
    frontend_id text  NOT NULL,
    PRIMARY KEY (poll_id, pseudonym)
);

-- The worker tier seals (it reads the votes); the results app reads a seal to publish it and to prove receipts.
GRANT SELECT, INSERT ON seals, sealed_ballots TO voting_worker;
GRANT SELECT ON seals, sealed_ballots TO voting_results;
