-- Read-only PostgreSQL role for Grafana's "AUREN PostgreSQL" datasource: SELECT on the rollup
-- tables of one schema, nothing else. Run as the owner of the schema, with psql variables:
--   psql "$AUREN_DATABASE_URL" -v schema=public -v password="$AUREN_GRAFANA_PG_PASSWORD" \
--        -f grafana/provisioning/postgres-readonly.sql
-- Re-runnable. Tables created later in the schema (new migrations) are covered by the default
-- privileges below.
SELECT 'CREATE ROLE auren_grafana LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auren_grafana') \gexec
ALTER ROLE auren_grafana WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
ALTER ROLE auren_grafana SET search_path = :"schema";
ALTER ROLE auren_grafana SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA :"schema" TO auren_grafana;
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO auren_grafana;
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema" GRANT SELECT ON TABLES TO auren_grafana;
