-- Refinery's initial schema. Times are UTC ISO-8601 text; JSON columns hold JSON text.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('annotator', 'researcher')),
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    concept TEXT NOT NULL,            -- the concept instruction given to models
    guidelines TEXT NOT NULL,         -- Markdown shown to annotators
    prompt_set TEXT NOT NULL,
    concept_scorer TEXT,
    content_scorer TEXT,
    votes_per_pair INTEGER NOT NULL DEFAULT 2,
    gold_threshold REAL NOT NULL DEFAULT 0.7,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    prompt_set TEXT NOT NULL,
    ext_id TEXT NOT NULL,             -- id in the source file
    text TEXT NOT NULL,
    reference TEXT,                   -- short reference answer
    key_facts TEXT NOT NULL DEFAULT '[]',  -- JSON list of alias lists
    answer TEXT,                      -- exact answer (math)
    split TEXT NOT NULL CHECK (split IN ('train', 'eval')),
    UNIQUE (prompt_set, ext_id)
);
CREATE INDEX prompts_set_split ON prompts (prompt_set, split);

CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,        -- a base spec, or an adapter version name
    kind TEXT NOT NULL CHECK (kind IN ('base', 'adapter')),
    base_spec TEXT NOT NULL,
    path TEXT,                        -- adapter directory
    method TEXT,
    config TEXT NOT NULL DEFAULT '{}',
    data_snapshot TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    job_id INTEGER,
    task_id INTEGER REFERENCES tasks (id),
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE outputs (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    prompt_id INTEGER NOT NULL REFERENCES prompts (id),
    model TEXT NOT NULL,              -- models.name, or 'human'
    strategy TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    params_hash TEXT NOT NULL,
    seed INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',  -- e.g. the inferred style description
    source TEXT NOT NULL DEFAULT 'model' CHECK (source IN ('model', 'human', 'seed')),
    job_id INTEGER,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (task_id, prompt_id, model, strategy, params_hash, seed)
);
CREATE INDEX outputs_task_strategy ON outputs (task_id, strategy);

CREATE TABLE pairs (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    prompt_id INTEGER NOT NULL REFERENCES prompts (id),
    output_a INTEGER NOT NULL REFERENCES outputs (id),
    output_b INTEGER NOT NULL REFERENCES outputs (id),
    votes_wanted INTEGER NOT NULL DEFAULT 2,
    gold TEXT CHECK (gold IN ('a', 'b', 'tie', 'both_bad')),
    batch TEXT,                       -- label of the scheduling request, e.g. 'icl-refine vs weak'
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (output_a, output_b)
);
CREATE INDEX pairs_task ON pairs (task_id);

CREATE TABLE assignments (
    pair_id INTEGER NOT NULL REFERENCES pairs (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    swapped INTEGER NOT NULL,         -- 1: output_b is shown on the left
    served_at REAL NOT NULL,          -- unix time
    PRIMARY KEY (pair_id, user_id)
);

CREATE TABLE votes (
    id INTEGER PRIMARY KEY,
    pair_id INTEGER NOT NULL REFERENCES pairs (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    choice TEXT NOT NULL CHECK (choice IN ('a', 'b', 'tie', 'both_bad')),  -- in pair terms, not screen terms
    swapped INTEGER NOT NULL,
    concept_a INTEGER CHECK (concept_a BETWEEN 1 AND 5),
    content_a INTEGER CHECK (content_a BETWEEN 1 AND 5),
    concept_b INTEGER CHECK (concept_b BETWEEN 1 AND 5),
    content_b INTEGER CHECK (content_b BETWEEN 1 AND 5),
    correction TEXT,
    seconds REAL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (pair_id, user_id)
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('generate', 'train', 'evaluate', 'experiment')),
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    params TEXT NOT NULL DEFAULT '{}',
    step INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    log TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL DEFAULT '{}',
    worker TEXT,
    heartbeat_at REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_by TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX jobs_status ON jobs (status);

CREATE TABLE metrics (
    id INTEGER PRIMARY KEY,
    job_id INTEGER REFERENCES jobs (id),
    model_id INTEGER REFERENCES models (id),
    step INTEGER,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX metrics_job ON metrics (job_id, name, step);

CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    model TEXT NOT NULL,
    strategy TEXT NOT NULL DEFAULT 'strong-base',
    split TEXT NOT NULL DEFAULT 'eval',
    n INTEGER NOT NULL,
    concept_mean REAL, concept_lo REAL, concept_hi REAL,
    content_mean REAL, content_lo REAL, content_hi REAL,
    details TEXT NOT NULL DEFAULT '{}',
    job_id INTEGER REFERENCES jobs (id),
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
