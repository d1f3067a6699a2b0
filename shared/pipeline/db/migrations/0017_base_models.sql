-- The base model a job trains its adapter on (pipeline/catalog/base_models.py). Jobs created before
-- models could be chosen were priced with the reference figures, which are the default model's: they
-- are that model's jobs, and so is a row inserted without one (the API always names it).
alter table lora_training_jobs add column base_model text not null default 'mistral-7b-v0.3'
    check (base_model ~ '^[a-z0-9][a-z0-9.-]{0,63}$');
