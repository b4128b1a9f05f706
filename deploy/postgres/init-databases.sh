#!/bin/sh
# One PostgreSQL server, three databases, two roles:
#   - TEMPORAL_DB_USER owns TEMPORAL_DB_NAME and TEMPORAL_VISIBILITY_DB_NAME
#     (Temporal's persistence and its visibility store);
#   - STORE_DB_USER owns STORE_DB_NAME (the product's case store; the product migrates
#     it itself at start-up, under an advisory lock, so no schema is made here).
# Neither role can connect to the other's databases. The official postgres image runs
# this once, as the superuser, when its data directory is first created; it is also safe
# to run again by hand against an existing server (what exists is left as it is).
#
# Passwords come from the environment (TEMPORAL_DB_PASSWORD, STORE_DB_PASSWORD) and reach
# psql as variables, quoted by psql itself, never spliced into SQL text by the shell.
set -eu

: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set}"
: "${STORE_DB_PASSWORD:?STORE_DB_PASSWORD is not set}"

psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v temporal_user="${TEMPORAL_DB_USER:-temporal}" \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" \
    -v temporal_db="${TEMPORAL_DB_NAME:-temporal}" \
    -v visibility_db="${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}" \
    -v store_user="${STORE_DB_USER:-soar}" \
    -v store_password="$STORE_DB_PASSWORD" \
    -v store_db="${STORE_DB_NAME:-soar}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'temporal_user', :'temporal_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'temporal_user') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'store_user', :'store_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'store_user') \gexec

SELECT format('CREATE DATABASE %I OWNER %I', name, owner)
FROM (VALUES (:'temporal_db', :'temporal_user'),
             (:'visibility_db', :'temporal_user'),
             (:'store_db', :'store_user')) AS wanted(name, owner)
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name) \gexec

SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', name)
FROM (VALUES (:'temporal_db'), (:'visibility_db'), (:'store_db')) AS mine(name) \gexec
SQL
