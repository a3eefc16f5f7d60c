/**
 * The archive bucket through `@aws-sdk/client-s3` (path-style addressing, so s3proxy, MinIO,
 * Ceph and AWS S3 all work by configuration). Large objects go up as multipart uploads through
 * `@aws-sdk/lib-storage`. Every method throws the SDK's error on failure (network, 5xx after the
 * SDK's own retries, auth); callers retry the whole flush.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'

/** Connection settings of the archive bucket (from `AUREN_S3_*`, see config.ts). */
export interface S3Settings {
  /** e.g. `http://127.0.0.1:19000`; omitted for AWS S3 itself. */
  readonly endpoint?: string
  readonly region: string
  readonly bucket: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** A request whose socket stays silent this long fails (then the SDK retries), ms. Default {@link REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number
}

/**
 * A store that accepts a request and never answers must fail the flush (the runner re-reads the
 * partition and retries), not hold the partition forever: 60 s of silence on a socket, ample for a
 * part of {@link MULTIPART_PART_BYTES} on any link the archive runs on.
 */
export const REQUEST_TIMEOUT_MS = 60_000
/** Connecting to the store gives up after this long, ms. */
export const CONNECTION_TIMEOUT_MS = 10_000

/** Objects above this size go up in 8 MiB parts (lib-storage's minimum part size is 5 MiB). */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024

/** A listed object. */
export interface StoredObject {
  readonly key: string
  readonly size: number
  readonly lastModified: Date
}

/** Minimal object-store operations the archive needs. */
export interface ObjectStore {
  readonly bucket: string
  /** Uploads (overwrites) `key`; resolves once the store acknowledged it. */
  put(key: string, body: Uint8Array): Promise<void>
  /** Reads a whole object. */
  get(key: string): Promise<Uint8Array>
  /** Every object under `prefix`. */
  list(prefix: string): Promise<StoredObject[]>
  /** Deletes keys (missing keys are not an error). */
  delete(keys: readonly string[]): Promise<void>
  close(): void
}

/** An S3 client for the settings (path-style, static credentials). */
export function createS3Client(s: S3Settings): S3Client {
  const config: S3ClientConfig = {
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    // socketTimeout: silence on the socket fails the request (requestTimeout of this SDK only warns).
    requestHandler: { socketTimeout: s.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, connectionTimeout: CONNECTION_TIMEOUT_MS },
  }
  return new S3Client(config)
}

/** The archive bucket as an {@link ObjectStore}. */
export function createObjectStore(s: S3Settings): ObjectStore {
  const client = createS3Client(s)
  const Bucket = s.bucket
  return {
    bucket: Bucket,
    async put(key, body) {
      const upload = new Upload({
        client,
        params: { Bucket, Key: key, Body: body, ContentType: 'application/vnd.apache.parquet' },
        partSize: MULTIPART_PART_BYTES,
        queueSize: 2,
      })
      await upload.done()
    },
    async get(key) {
      const out = await client.send(new GetObjectCommand({ Bucket, Key: key }))
      return out.Body!.transformToByteArray()
    },
    async list(prefix) {
      const found: StoredObject[] = []
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }))
        for (const o of page.Contents ?? []) found.push({ key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) })
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
      return found
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000)
        const out = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }))
        if (out.Errors?.length) throw new Error(`delete failed for ${out.Errors.length} objects: ${out.Errors[0]!.Key} ${out.Errors[0]!.Message}`)
      }
    },
    close() {
      client.destroy()
    },
  }
}
