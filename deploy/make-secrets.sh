#!/bin/sh
# Writes the files deploy/compose.yaml and deploy/k8s/ read their secrets from, each with
# fresh random values, readable by you only (mode 0600). A file that exists already is
# left as it is, so running this again never changes a password a database was made
# with. None of these files is committed (deploy/.gitignore).
#
#   .env               PostgreSQL passwords (compose substitutes them into the services)
#   soar.env           the product's tokens, and where the Slack ones go
#   slack-socket.env   the Slack app-level token, read only by the `bot` service
#   k8s/secrets.env    the Kubernetes Secret's values (deploy/k8s/kustomization.yaml)
set -eu

cd "$(dirname "$0")"
umask 077

random() {
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

write_once() {
    file=$1
    if [ -e "$file" ]; then
        echo "kept    deploy/${file}"
        cat >/dev/null
    else
        cat >"$file"
        echo "wrote   deploy/${file}"
    fi
}

write_once .env <<END
# PostgreSQL passwords for deploy/compose.yaml. Changing one here does not change the
# database: it was made with the value this file had at the first \`up\`.
POSTGRES_PASSWORD=$(random)
TEMPORAL_DB_PASSWORD=$(random)
STORE_DB_PASSWORD=$(random)
END

write_once soar.env <<END
# The product's secrets, given to the worker, the API and the bot.
SOAR_API_TOKEN=$(random)
SOAR_WEBHOOK_TOKEN=$(random)
# Slack (see the README's Slack section): the bot token lets the worker post; with the
# signing secret the API serves Slack at /slack/events (HTTP mode).
#SLACK_BOT_TOKEN=xoxb-...
#SLACK_SIGNING_SECRET=...
END

write_once slack-socket.env <<END
# Socket Mode only (\`docker compose --profile slack-socket up\`): the app-level token,
# read by the bot service alone so the API does not open a Socket Mode connection too.
#SLACK_APP_TOKEN=xapp-...
END

write_once k8s/secrets.env <<END
SOAR_API_TOKEN=$(random)
SOAR_WEBHOOK_TOKEN=$(random)
# Your PostgreSQL: the store's role, its password and database (URL-encode the password).
SOAR_DATABASE_URL=postgresql+asyncpg://soar:CHANGE-ME@postgres.example.internal:5432/soar
#SLACK_BOT_TOKEN=xoxb-...
#SLACK_SIGNING_SECRET=...
#SOAR_TEMPORAL__API_KEY=...
END
