-- Read-only PostgreSQL role for Grafana's "AUREN PostgreSQL" datasource: SELECT on the rollup
-- tables of one schema, nothing else (every session read-only). Run as a superuser (creating a
-- role needs CREATEROLE; the local stack's `auren` role has not), with psql variables: the
-- schema, the password, and the role owning the tables (`auren` on the local stack):
--   psql -h <socket dir> -p 15432 -U postgres -d auren -v schema=public -v owner=auren \
--        -v password="$AUREN_GRAFANA_PG_PASSWORD" -f grafana/provisioning/postgres-readonly.sql
-- Re-runnable. Tables the owner creates later in the schema (new migrations) are covered by the
-- default privileges below.
SELECT 'CREATE ROLE auren_grafana LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auren_grafana') \gexec
ALTER ROLE auren_grafana WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
ALTER ROLE auren_grafana SET search_path = :"schema";
ALTER ROLE auren_grafana SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA :"schema" TO auren_grafana;
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO auren_grafana;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT SELECT ON TABLES TO auren_grafana;
