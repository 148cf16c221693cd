-- Bunshin schema, version 1: placeholder so Flyway has a baseline. Tables come in the following migrations.
SELECT 1;
