#!/bin/sh
# The product's Temporal namespace and its custom search attributes, made once the
# server answers: run by the one-shot `temporal-namespace` service of deploy/compose.yaml
# (the server image has no Temporal CLI; the admin-tools image has). Safe to run again:
# what exists is left as it is. It ends only when the namespace lists every attribute, so
# the product's first workflow start is not refused for want of one.
#
#   TEMPORAL_ADDRESS     host:port of the frontend
#   NAMESPACE            the namespace (the product's SOAR_TEMPORAL__NAMESPACE)
#   RETENTION            how long closed workflows are kept (default 168h)
#   SEARCH_ATTRIBUTES    "Name=Type ..." (the product's soar/search_attributes.py)
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is not set}"
: "${NAMESPACE:?NAMESPACE is not set}"
: "${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES is not set}"
RETENTION=${RETENTION:-168h}
WAIT_SECONDS=${WAIT_SECONDS:-300}

cli() {
    temporal --address "$TEMPORAL_ADDRESS" "$@"
}

# Polls the server (a deployment script waiting for a service to come up), bounded.
wait_for() {
    what=$1
    shift
    waited=0
    until "$@" >/dev/null 2>&1; do
        if [ "$waited" -ge "$WAIT_SECONDS" ]; then
            echo "gave up after ${WAIT_SECONDS}s waiting for ${what}" >&2
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

serving() {
    cli operator cluster health | grep -q SERVING
}

listed() {
    cli operator search-attribute list --namespace "$NAMESPACE" \
        | grep -Eq "^[[:space:]]*$1[[:space:]]"
}

all_listed() {
    for pair in $SEARCH_ATTRIBUTES; do
        listed "${pair%%=*}" || return 1
    done
}

wait_for "Temporal at ${TEMPORAL_ADDRESS}" serving

if cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "Namespace ${NAMESPACE} exists."
else
    cli operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
    echo "Namespace ${NAMESPACE} created (retention ${RETENTION})."
fi
wait_for "namespace ${NAMESPACE}" \
    cli operator search-attribute list --namespace "$NAMESPACE"

for pair in $SEARCH_ATTRIBUTES; do
    name=${pair%%=*}
    type=${pair#*=}
    if listed "$name"; then
        echo "Search attribute ${name} exists."
    else
        cli operator search-attribute create --namespace "$NAMESPACE" \
            --name "$name" --type "$type"
        echo "Search attribute ${name} (${type}) added."
    fi
done
wait_for "the search attributes of ${NAMESPACE}" all_listed
echo "Namespace ${NAMESPACE} is ready."
