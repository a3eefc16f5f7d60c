/**
 * Access to the local stack started by `bash scripts/stack.sh up` (Kafka, schema registry,
 * PostgreSQL, Prometheus on 127.0.0.1).
 *
 * `up` writes `$AUREN_STACK_DIR/stack.env` (default `~/.cache/auren/run/stack.env`) with
 * `KEY=value` lines; every key can be overridden by an environment variable of the same name.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Addresses of the running stack's servers. */
export interface StackEnv {
  /** Kafka bootstrap servers, e.g. `['127.0.0.1:19092']`. */
  kafkaBrokers: string[];
  /** Confluent-compatible schema registry base URL, e.g. `http://127.0.0.1:18081/apis/ccompat/v7`. */
  schemaRegistryUrl: string;
  /** PostgreSQL connection URL for role/database `auren`, password included. */
  databaseUrl: string;
  /** Prometheus base URL, e.g. `http://127.0.0.1:19090`. */
  prometheusUrl: string;
  /** Folder Prometheus watches for file_sd target files (see {@link registerPromTarget}). */
  promTargetsDir: string;
  /** Alertmanager base URL, e.g. `http://127.0.0.1:19094` (Prometheus sends its alerts there). */
  alertmanagerUrl: string;
}

/** The run dir of the stack: `$AUREN_STACK_DIR`, default `~/.cache/auren/run`. */
export function stackDir(): string {
  return process.env.AUREN_STACK_DIR || join(homedir(), '.cache', 'auren', 'run');
}

/** Parses `KEY=value` lines (comments, blank lines and surrounding quotes are tolerated). */
function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim().replace(/^export\s+/, '');
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
}

/**
 * Reads the stack's addresses from `$AUREN_STACK_DIR/stack.env`, with environment variables
 * (`AUREN_KAFKA_BROKERS`, `AUREN_SCHEMA_REGISTRY_URL`, `AUREN_DATABASE_URL`,
 * `AUREN_PROMETHEUS_URL`, `AUREN_PROM_TARGETS_DIR`, `AUREN_ALERTMANAGER_URL`) taking precedence over the file.
 *
 * @throws Error naming the missing key (and how to start the stack) when a value is found
 *   neither in the environment nor in the file.
 */
export function stackEnv(): StackEnv {
  const file = join(stackDir(), 'stack.env');
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseEnvFile(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const get = (key: string): string => {
    const value = process.env[key] || fromFile[key];
    if (!value) {
      throw new Error(
        `${key} is not set and ${file} does not define it: start the local stack with ` +
          '`npm run stack:up` (or set the variable)',
      );
    }
    return value;
  };
  return {
    kafkaBrokers: get('AUREN_KAFKA_BROKERS')
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== ''),
    schemaRegistryUrl: get('AUREN_SCHEMA_REGISTRY_URL').replace(/\/+$/, ''),
    // Read when used: a command that needs only Kafka and the registry (`auren topics`, run
    // in a cluster by the Helm chart's hook Job) has no database or Prometheus to name.
    get databaseUrl() {
      return get('AUREN_DATABASE_URL');
    },
    get prometheusUrl() {
      return get('AUREN_PROMETHEUS_URL').replace(/\/+$/, '');
    },
    get promTargetsDir() {
      return get('AUREN_PROM_TARGETS_DIR');
    },
    // Read when used: a stack.env written before the Alertmanager joined the stack lacks it.
    get alertmanagerUrl() {
      return get('AUREN_ALERTMANAGER_URL').replace(/\/+$/, '');
    },
  };
}

const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Registers a `/metrics` endpoint with the stack's Prometheus (job `auren`): writes
 * `<promTargetsDir>/<name>.json` in file_sd format. Prometheus reads the file within 1 s but
 * applies discovery changes only every 5 s, so the first scrape (and, after removal, the end
 * of scraping) comes about 5–7 s later: poll for up to ~15 s rather than sleeping.
 * Series scraped from it carry `instance="<hostPort>"` and `auren_target="<name>"`, plus any
 * extra `labels`.
 *
 * @param name file name and `auren_target` label; letters, digits, `_`, `.`, `-`.
 * @param hostPort the endpoint's `host:port`, e.g. `127.0.0.1:9464` (path `/metrics`).
 * @param labels optional extra target labels.
 * @returns a function that removes the target again (safe to call more than once).
 */
export function registerPromTarget(
  name: string,
  hostPort: string,
  labels: Record<string, string> = {},
): () => void {
  if (!TARGET_NAME.test(name)) throw new Error(`invalid Prometheus target name: ${JSON.stringify(name)}`);
  const dir = stackEnv().promTargetsDir;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const body = JSON.stringify([{ targets: [hostPort], labels: { ...labels, auren_target: name } }], null, 2);
  // Write then rename, so Prometheus never reads a half-written file (it only reads *.json).
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, `${body}\n`);
  renameSync(tmp, file);
  return () => rmSync(file, { force: true });
}

/** The stack's S3-compatible store (s3proxy, scripts/stack/s3.sh): endpoint, bucket, generated credentials. */
export interface StackS3Env {
  endpoint: string
  region: string
  bucket: string
  accessKeyId: string
  secretAccessKey: string
}

/**
 * Reads `AUREN_S3_*` from the environment or `$AUREN_STACK_DIR/stack.env`.
 * @throws Error naming the missing key when the stack has no S3 store (start it with `npm run stack:up`)
 */
export function stackS3Env(): StackS3Env {
  const file = join(stackDir(), 'stack.env')
  let fromFile: Record<string, string> = {}
  try {
    fromFile = parseEnvFile(readFileSync(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const get = (key: string): string => {
    const value = process.env[key] || fromFile[key]
    if (!value) throw new Error(`${key} is not set and ${file} does not define it: start the local stack with \`npm run stack:up\``)
    return value
  }
  return {
    endpoint: get('AUREN_S3_ENDPOINT'),
    region: get('AUREN_S3_REGION'),
    bucket: get('AUREN_S3_BUCKET'),
    accessKeyId: get('AUREN_S3_ACCESS_KEY_ID'),
    secretAccessKey: get('AUREN_S3_SECRET_ACCESS_KEY'),
  }
}
