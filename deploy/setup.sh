#!/bin/sh
# Sets up a Temporal cluster for bulk-delete, the same way in temporal-compose.yml (the admin-tools jobs)
# and in the rehearsal (npm run test:cluster):
#
#   setup.sh schema      create the databases and bring both schemas (default store, visibility) up to date
#   setup.sh namespace   register the namespace with its retention and the search attributes the workflows upsert
#
# Every step is idempotent and retried while the database or the server is not up yet; a step that still
# fails after SETUP_ATTEMPTS tries stops the script with a non-zero exit (no "|| true" anywhere).
# Needs temporal-sql-tool and temporal (the CLI) on PATH.
set -eu

: "${DB:=postgres12}"
: "${POSTGRES_SEEDS:=postgresql}"
: "${DB_PORT:=5432}"
: "${POSTGRES_USER:=temporal}"
: "${DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"
: "${TEMPORAL_SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"
: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${TEMPORAL_NAMESPACE:=default}"
: "${TEMPORAL_NAMESPACE_RETENTION:=720h}"
: "${SETUP_ATTEMPTS:=60}"
: "${SETUP_RETRY_SECONDS:=2}"

log() { printf 'setup: %s\n' "$*" >&2; }

# retry WHAT COMMAND...: runs COMMAND until it succeeds, at most SETUP_ATTEMPTS times.
retry() {
  what=$1
  shift
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge "$SETUP_ATTEMPTS" ]; then
      log "FAILED: $what (gave up after $attempt attempts)"
      exit 1
    fi
    log "$what: not yet (attempt $attempt of $SETUP_ATTEMPTS), retrying in ${SETUP_RETRY_SECONDS}s"
    attempt=$((attempt + 1))
    sleep "$SETUP_RETRY_SECONDS"
  done
}

sql_tool() {
  db=$1
  shift
  temporal-sql-tool --plugin "$DB" --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" \
    --db "$db" "$@"
}

schema() {
  : "${POSTGRES_PWD:?set POSTGRES_PWD}"
  for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
    db=${pair%%:*}
    dir="$TEMPORAL_SCHEMA_DIR/${pair#*:}/versioned"
    [ -d "$dir" ] || { log "FAILED: no schema directory $dir (TEMPORAL_SCHEMA_DIR)"; exit 1; }
    retry "create database $db" sql_tool "$db" create-database
    retry "schema version table of $db" sql_tool "$db" setup-schema -v 0.0
    retry "update schema of $db" sql_tool "$db" update-schema -d "$dir"
    log "database $db is up to date ($dir)"
  done
}

# The search attributes the workflows upsert (plan/search-attributes.ts; a test checks that both agree).
SEARCH_ATTRIBUTES="BulkDeletePlan:Keyword BulkDeleteStatus:Keyword BulkDeleteItems:Int BulkDeleteFailed:Int BulkDeleteRetryOf:Keyword"

namespace_exists() {
  temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" >/dev/null 2>&1
}

register_namespace() {
  if namespace_exists; then
    temporal operator namespace update --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" \
      --retention "$TEMPORAL_NAMESPACE_RETENTION"
  else
    temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" \
      --retention "$TEMPORAL_NAMESPACE_RETENTION"
  fi
}

# Creating an attribute that exists with the same type succeeds; one with another type fails, loudly.
register_search_attributes() {
  set --
  for pair in $SEARCH_ATTRIBUTES; do set -- "$@" --name "${pair%%:*}" --type "${pair#*:}"; done
  temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" "$@"
}

namespace() {
  retry "Temporal at $TEMPORAL_ADDRESS" temporal operator cluster health --address "$TEMPORAL_ADDRESS"
  retry "namespace $TEMPORAL_NAMESPACE (retention $TEMPORAL_NAMESPACE_RETENTION)" register_namespace
  retry "search attributes $SEARCH_ATTRIBUTES" register_search_attributes
  log "namespace $TEMPORAL_NAMESPACE: retention $TEMPORAL_NAMESPACE_RETENTION, search attributes $SEARCH_ATTRIBUTES"
}

case "${1:-}" in
  schema) schema ;;
  namespace) namespace ;;
  *)
    log "usage: setup.sh schema|namespace"
    exit 2
    ;;
esac
