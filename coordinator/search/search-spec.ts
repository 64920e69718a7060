// What a palfa-search attempt is sent: the search parameters (the config's
// `search` with the job's own overrides) and the beam's zaplist, looked up
// on the coordinator in PALFA's order when the beam is assigned.
import type { SearchSpec } from "../../shared/gen/agent";
import type { Config } from "../../shared/config/schema";
import { searchParamsSchema, type SearchParams } from "../../shared/config/search-params";
import { searchParamsToWire } from "../../shared/protocol/search-params-wire";
import { RefusedAction } from "../tracker/tracker";
import { BeamNameError, beamNameParts, findZaplist, openZaplistSource } from "../zaplists";

/** A beam that must not be searched as it stands (PALFA's FailedPreCheckError). */
export class PrecheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrecheckFailed";
  }
}

/** A job's own search parameters, the ones that differ from the config's `search`: checked when given, stored with the job. */
export type SearchOverrides = Partial<SearchParams>;

/**
 * Parses the JSON overrides an operator gave (add-files --param), the one place they are
 * checked against the schema: what is stored with the job is the parsed values of the
 * keys given, so the search parameters are never parsed again on their way to the agent.
 */
export function parseOverrides(cfg: Config, json: string): SearchOverrides {
  if (!json) return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new RefusedAction(`search parameters are not JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new RefusedAction("search parameters must be a JSON object");
  const parsed = searchParamsSchema.safeParse({ ...cfg.search, ...value });
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) =>
        `${i.path.join(".") || "(params)"}: ${i.code === "unrecognized_keys" ? `unknown parameter${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}` : i.message}`,
    );
    throw new RefusedAction(`bad search parameters: ${problems.join("; ")}`);
  }
  const given = Object.keys(value) as (keyof SearchParams)[];
  return Object.fromEntries(given.map((k) => [k, parsed.data[k]])) as SearchOverrides;
}

/** The parameters a job's search runs with: the config's (checked at load) and the job's own (checked when given). */
export function resolvedParams(cfg: Config, overrides: SearchOverrides): SearchParams {
  return { ...cfg.search, ...overrides };
}

export interface ZaplistFound {
  name: string;
  text: string;
  rule: string;
  source: string;
}

/** What a search job's spec_json holds: the parameters that differ from the config's, and for a canary no zaplist. */
export interface SearchJobSpec {
  params?: SearchOverrides;
  noZaplist?: boolean;
}

/** The zaplist of a beam that gets none: no birdies (the search then skips zapbirds); the results say why. */
const NO_ZAPLIST = (why: string): ZaplistFound => ({ name: "none.zaplist", text: `# ${why}: no birdies zapped\n`, rule: `none: ${why}`, source: "" });

/**
 * PALFA's zaplist lookup for a beam (this observation → beam and day → all beams
 * that day → the default), over the configured directory or tarball. Beams whose
 * names are not PALFA's get the default list.
 */
export async function lookupZaplist(cfg: Config, beam: string): Promise<ZaplistFound> {
  const z = cfg.zaplists;
  // No zaplists configured: no birdies are zapped, and the results say so.
  if (!z.source) return NO_ZAPLIST("zaplists.source is not set");
  let key;
  try {
    key = beamNameParts(beam);
  } catch (err) {
    if (!(err instanceof BeamNameError)) throw err;
  }
  try {
    if (key) {
      const found = await findZaplist(z.source, key, { defaultName: key.kind === "mock" ? z.default_mock : z.default_wapp, useDefault: z.use_default });
      return { name: found.name, text: found.text, rule: `${found.rule}: ${found.ruleName}`, source: found.source };
    }
    if (!z.use_default) throw new PrecheckFailed(`beam ${beam} has no PALFA name to look a zaplist up by, and zaplists.use_default is false`);
    const src = await openZaplistSource(z.source);
    const where = src.find(z.default_other);
    if (!where) throw new PrecheckFailed(`no ${z.default_other} (zaplists.default_other) in ${z.source}`);
    return { name: z.default_other, text: (await src.read(where)).toString("utf8"), rule: "4: default list", source: z.source };
  } catch (err) {
    if (err instanceof PrecheckFailed) throw err;
    throw new PrecheckFailed(`no zaplist for beam ${beam}: ${(err as Error).message}`);
  }
}

/**
 * Search specs, prepared ahead of assignment: the zaplist lookup reads files, so
 * it runs in the background and the dispatcher assigns the beam once it is ready.
 */
/** A zaplists tarball the downloader fetched from an archive (zaplist_versions). */
export interface ArchiveZaplists {
  id: number;
  source: string;
  sha256: string;
  path: string;
}

export class SearchSpecs {
  private readonly ready = new Map<number, SearchSpec | PrecheckFailed>();
  private readonly pending = new Set<number>();
  /** the archive zaplist version each job's latest spec was made with */
  private readonly versions = new Map<number, number>();

  /**
   * `archiveZaplists`: the newest zaplists an archive gave (downloader source with
   * `zaplists: true`), used when `zaplists.source` is not set.
   */
  constructor(
    private readonly cfg: Config,
    private readonly onReady: () => void,
    private readonly archiveZaplists: () => ArchiveZaplists | undefined = () => undefined,
  ) {}

  /** The archive zaplist version the job's search was sent, if it was sent one. */
  zaplistVersion(jobId: number): number | undefined {
    return this.versions.get(jobId);
  }

  /** The spec, or undefined while it is being prepared; throws PrecheckFailed if the beam cannot be searched. */
  get(jobId: number, beam: string, jobSpec: SearchJobSpec): SearchSpec | undefined {
    const r = this.ready.get(jobId);
    if (r instanceof PrecheckFailed) {
      this.ready.delete(jobId);
      throw r;
    }
    if (r) {
      this.ready.delete(jobId);
      return r;
    }
    if (!this.pending.has(jobId)) {
      this.pending.add(jobId);
      void this.prepare(jobId, beam, jobSpec)
        .then(
          (spec) => this.ready.set(jobId, spec),
          (err) => {
            this.ready.set(jobId, err instanceof PrecheckFailed ? err : new PrecheckFailed((err as Error).message));
          },
        )
        .finally(() => {
          this.pending.delete(jobId);
          this.onReady();
        });
    }
    return undefined;
  }

  private async prepare(jobId: number, beam: string, jobSpec: SearchJobSpec): Promise<SearchSpec> {
    const params = resolvedParams(this.cfg, jobSpec.params ?? {});
    // A canary beam is synthetic: it has no birdies of the site's to zap.
    if (jobSpec.noZaplist) return { params: searchParamsToWire(params), zaplist: NO_ZAPLIST("a canary beam: synthetic, nothing to zap") };
    const archive = this.cfg.zaplists.source ? undefined : this.archiveZaplists();
    if (!archive) {
      this.versions.delete(jobId);
      return { params: searchParamsToWire(params), zaplist: await lookupZaplist(this.cfg, beam) };
    }
    // The archive's zaplists, version and hash named in the results' provenance.
    const zaplist = await lookupZaplist({ ...this.cfg, zaplists: { ...this.cfg.zaplists, source: archive.path } }, beam);
    zaplist.source = `archive ${archive.source} zaplists version ${archive.id} (sha256 ${archive.sha256.slice(0, 16)}…): ${archive.path}`;
    this.versions.set(jobId, archive.id);
    return { params: searchParamsToWire(params), zaplist };
  }
}
