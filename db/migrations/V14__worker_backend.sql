-- What each stage worker runs: "java" or "llama.cpp", and one line describing it (library path, release, CPU
-- variant or GPU devices; the Java engine's thread count). Written at registration and when a stage loads.
ALTER TABLE workers ADD COLUMN backend text NOT NULL DEFAULT 'java';
ALTER TABLE workers ADD COLUMN backend_detail text;
