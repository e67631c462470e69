-- Schema version 3: named slices of documents and their members.
CREATE TABLE slices (
    slice_id    VARCHAR PRIMARY KEY,   -- the name
    kind        VARCHAR NOT NULL,      -- definition / curriculum / split
    definition  VARCHAR,               -- the slice definition (shipped name or .sql path), or the derivation
    sql_hash    VARCHAR,               -- hash of the definition's SQL text: an edited file is a new definition
    params      JSON,                  -- typed params as bound (models resolved to their ids)
    description VARCHAR,
    n_members   INTEGER,
    parent      VARCHAR,               -- slice this one was derived from (split, curriculum)
    run_id      VARCHAR,
    created_at  TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE slice_members (
    slice_id VARCHAR NOT NULL,
    doc_id   VARCHAR NOT NULL,
    rank     INTEGER NOT NULL,         -- order within the slice (curricula), 0-based
    bucket   INTEGER,                  -- curriculum bucket, if any
    PRIMARY KEY (slice_id, doc_id)
);
