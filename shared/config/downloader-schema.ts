// The `downloader:` config section: where raw data comes from (PALFA's Downloader,
// made generic), how much disk it may use and how fast it asks for more.
//
// Mount it in the main schema as `downloader: downloaderSchema.prefault({})`. With no
// `sources` nothing is downloaded or watched (add-files still works).
import { z } from "zod";
import { sizeSchema } from "./sizes";

const size = sizeSchema;
const name = z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, dot, dash, underscore");

/** A directory whose files are registered once their size has been stable for `stable_s` (grouped into beams as add-files does). */
const dirSource = z.strictObject({
  name,
  type: z.literal("dir"),
  path: z.string().min(1),
  // Seconds a file's size and mtime must stay the same before it is registered (it may still be written to).
  stable_s: z.number().nonnegative().default(30),
  // 0: inotify (fs.watch) plus a slow rescan; > 0: scan every this many seconds only (NFS, Lustre: no inotify events from other hosts).
  poll_s: z.number().nonnegative().default(0),
});

/** An archive that restores beams on request (PALFA's Cornell restore service made generic; docs/archive-api.md). */
const restoreApiSource = z.strictObject({
  name,
  type: z.literal("restore-api"),
  // The archive's base URL, e.g. https://archive.example.org/api/v1
  url: z.string().url(),
  // A file holding the bearer token sent with every call ("" = none).
  token_file: z.string().default(""),
  // What to ask for (PALFA's request_datatype and request_numbits); passed through to the archive.
  file_type: z.string().default("mock"),
  numbits: z.number().int().positive().default(4),
  // Fetch the archive's zaplists when they change (GET <url>/zaplists) and search with them.
  zaplists: z.boolean().default(false),
  // Credentials for ftp:// and ftps:// file URLs that carry none (PALFA's FTP login).
  ftp_user: z.string().default("anonymous"),
  ftp_password_file: z.string().default(""),
  // Accept a TLS certificate the system does not trust (a test archive); never on a real one.
  insecure_tls: z.boolean().default(false),
});

export const sourceSchema = z.discriminatedUnion("type", [dirSource, restoreApiSource]);
export type SourceConfig = z.output<typeof sourceSchema>;
export type DirSourceConfig = z.output<typeof dirSource>;
export type RestoreApiSourceConfig = z.output<typeof restoreApiSource>;

export const downloaderSchema = z.strictObject({
  sources: z
    .array(sourceSchema)
    .default([])
    .refine((s) => new Set(s.map((x) => x.name)).size === s.length, "source names must be unique"),
  // Where downloaded files go ("" = <data_dir>/rawdata); partial files stay in <dir>/.partial until verified.
  dir: z.string().default(""),
  // The downloader's share of the disk: bytes of its downloaded and pending files (PALFA's space_to_use).
  space_to_use: size.default(60 * 2 ** 30),
  // Free space the download filesystem always keeps, for the searches' results and everything else (PALFA's min_free_space).
  min_free_space: size.default(10 * 2 ** 30),
  // Transfers at once (PALFA's numdownloads).
  numdownloads: z.number().int().positive().default(2),
  // Files restored but not yet downloaded, at most (PALFA's numrestored).
  max_restored: z.number().int().positive().default(10),
  // Tries of a file before it fails for good (PALFA's numretries), and of a request.
  numretries: z.number().int().positive().default(3),
  request_retries: z.number().int().positive().default(5),
  // Beams per request: `request_size` while no download has been seen, then what the observed
  // download rate fetches in `request_horizon_s`, between 1 and `max_request_size`.
  request_size: z.number().int().positive().default(5),
  max_request_size: z.number().int().positive().default(100),
  request_horizon_s: z.number().positive().default(3600),
  // A restore not ready this long after it was asked for is asked again (PALFA: 6 h, then failed for good).
  request_timeout_s: z
    .number()
    .positive()
    .default(6 * 3600),
  // Backoff of failed requests and transfers: doubles from `retry_initial_s` up to `retry_max_s`.
  retry_initial_s: z.number().positive().default(30),
  retry_max_s: z.number().positive().default(3600),
  // How often the loop looks at the archive (PALFA slept 60 s between passes).
  poll_s: z.number().positive().default(10),
  // A transfer that receives nothing for this long is dropped (and resumed later).
  stall_timeout_s: z.number().positive().default(120),
});
export type DownloaderConfig = z.output<typeof downloaderSchema>;
