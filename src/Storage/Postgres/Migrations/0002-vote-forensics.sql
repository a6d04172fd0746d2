-- Forensic data of each voter's latest vote (docs/PRIVACY.md): keyed hashes of the client's address prefix (under a
-- salt of the vote's UTC day) and of its User-Agent, and when the voter's identity was issued. Nullable: rows written
-- before, and votes whose request lacked a part, have none. Adding nullable columns without a default changes only
-- the catalogue, so this is instant on a full table.
ALTER TABLE votes
    ADD COLUMN IF NOT EXISTS address_hash       bigint,
    ADD COLUMN IF NOT EXISTS user_agent_hash    bigint,
    ADD COLUMN IF NOT EXISTS identity_issued_at timestamptz;
