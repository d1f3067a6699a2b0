-- Datasets uploaded through the API (POST /datasets) and validated from the file itself: uploading ->
-- processing -> ready | failed. What validation found is kept beside the figures the estimate reads.
alter table lora_datasets
    add column source_key        text,
    add column upload_expires_at timestamptz,
    add column size_bytes        bigint check (size_bytes >= 0),
    add column sha256            text check (sha256 ~ '^[0-9a-f]{64}$'),
    add column examples          integer check (examples >= 0),
    add column held_out          integer check (held_out >= 0),
    -- By base model id: total (over the training examples), minimum, median, p95, maximum, over_context.
    add column token_counts      jsonb,
    -- The first 50 problems (line, code, message) of a failed file, and how many it has in all.
    add column validation_errors jsonb,
    add column error_count       integer not null default 0 check (error_count >= 0),
    -- S3's sequencer of the upload last validated: a late notification of an older upload changes nothing.
    add column source_sequencer  text,
    add column validated_at      timestamptz,
    add constraint lora_datasets_status_known
        check (status in ('uploading', 'processing', 'ready', 'failed')) not valid;

-- The API creates a user's datasets (RLS: only as that user); the validator, in the workers' role, records
-- what it found.
grant insert (id, user_id, name, format, status, source_key, upload_expires_at, created_at) on lora_datasets
    to pipeline_app;
grant update (status, training_ready, total_training_pairs, total_tokens, size_bytes, sha256, examples,
              held_out, token_counts, validation_errors, error_count, source_sequencer, validated_at)
    on lora_datasets to pipeline_worker;
