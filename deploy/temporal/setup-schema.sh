#!/bin/sh
# Temporal's schemas on PostgreSQL, brought to the newest version the admin-tools image
# ships: run by the one-shot `temporal-schema` service of deploy/compose.yaml before the
# server starts, on every `docker compose up` (a schema already current is left as it is,
# so this is also how an image upgrade migrates the databases). The databases and the
# role exist already (deploy/postgres/init-databases.sh); temporal-sql-tool reads the
# password from SQL_PASSWORD, so it never appears on a command line.
set -eu

: "${SQL_HOST:?SQL_HOST is not set}"
: "${SQL_USER:?SQL_USER is not set}"
: "${SQL_PASSWORD:?SQL_PASSWORD is not set}"
export SQL_PASSWORD
SCHEMAS=/etc/temporal/schema/postgresql/v12

migrate() {
    database=$1
    versions=$2
    echo "Temporal schema: ${database}"
    temporal-sql-tool --plugin postgres12 --endpoint "$SQL_HOST" --port "${SQL_PORT:-5432}" \
        --user "$SQL_USER" --database "$database" setup-schema -v 0.0
    temporal-sql-tool --plugin postgres12 --endpoint "$SQL_HOST" --port "${SQL_PORT:-5432}" \
        --user "$SQL_USER" --database "$database" update-schema -d "$versions"
}

migrate "${TEMPORAL_DB_NAME:-temporal}" "$SCHEMAS/temporal/versioned"
migrate "${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}" "$SCHEMAS/visibility/versioned"
echo "Temporal schemas are current."
