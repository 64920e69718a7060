// The read side of the results DB, for `beamflow results`: the candidates of the
// chosen uploads with their beam and the upload's diagnostics, best first.
import type { ResultsDb } from "./db";

export interface CandidateListing {
  uploadId: number;
  obsName: string;
  beam: number | null;
  candNum: number;
  period: number | null;
  baryPeriod: number | null;
  dm: number | null;
  prestoSigma: number;
  prepfoldSigma: number;
  snr: number;
  numHits: number;
  numHarmonics: number;
}

export interface UploadListing {
  uploadId: number;
  obsName: string;
  beam: number | null;
  uploadedAt: string;
  diagnostics: Record<string, number>;
  candidates: CandidateListing[];
}

export interface ResultsQuery {
  /** only these uploads (a job's committed upload); all when absent */
  uploadIds?: number[];
  /** candidates with presto_sigma below this are left out */
  minSigma?: number;
}

export async function queryResults(db: ResultsDb, q: ResultsQuery): Promise<UploadListing[]> {
  if (q.uploadIds && q.uploadIds.length === 0) return [];
  const only = q.uploadIds ? ` WHERE u.upload_id IN (${q.uploadIds.map(() => "?").join(", ")})` : "";
  const ids = q.uploadIds ?? [];
  return db.transaction(async (tx) => {
    const uploads = await tx.select<{ upload_id: number; obs_name: string; beam_id: number | null; uploaded_at: string }>(
      `SELECT u.upload_id, o.obs_name, h.beam_id, u.uploaded_at FROM uploads u
         JOIN observations o ON o.obs_id = u.obs_id JOIN headers h ON h.header_id = u.header_id${only}
        ORDER BY u.upload_id`,
      ids,
    );
    const byId = new Map<number, UploadListing>();
    for (const u of uploads) {
      byId.set(Number(u.upload_id), {
        uploadId: Number(u.upload_id),
        obsName: u.obs_name,
        beam: u.beam_id == null ? null : Number(u.beam_id),
        uploadedAt: u.uploaded_at,
        diagnostics: {},
        candidates: [],
      });
    }
    const diags = await tx.select<{ upload_id: number; name: string; value: number }>(
      `SELECT d.upload_id, t.diagnostic_type_name AS name, d.diagnostic_value AS value FROM diagnostics d
         JOIN diagnostic_types t ON t.diagnostic_type_id = d.diagnostic_type_id JOIN uploads u ON u.upload_id = d.upload_id
       ${only ? `${only} AND` : "WHERE"} d.diagnostic_value IS NOT NULL ORDER BY t.diagnostic_type_id`,
      ids,
    );
    for (const d of diags) {
      const u = byId.get(Number(d.upload_id));
      if (u) u.diagnostics[d.name] = Number(d.value);
    }
    const sigma = q.minSigma === undefined ? "" : ` ${only ? "AND" : "WHERE"} c.presto_sigma >= ?`;
    const cands = await tx.select<Record<string, number | null>>(
      `SELECT c.upload_id, c.cand_num, c.period, c.bary_period, c.dm, c.presto_sigma, c.prepfold_sigma, c.snr, c.num_hits, c.num_harmonics
         FROM pdm_candidates c JOIN uploads u ON u.upload_id = c.upload_id${only}${sigma}
        ORDER BY c.presto_sigma DESC, c.upload_id, c.cand_num`,
      q.minSigma === undefined ? ids : [...ids, q.minSigma],
    );
    for (const c of cands) {
      const u = byId.get(Number(c.upload_id));
      if (!u) continue;
      const num = (v: number | null) => (v == null ? null : Number(v));
      u.candidates.push({
        uploadId: u.uploadId,
        obsName: u.obsName,
        beam: u.beam,
        candNum: Number(c.cand_num),
        period: num(c.period),
        baryPeriod: num(c.bary_period),
        dm: num(c.dm),
        prestoSigma: Number(c.presto_sigma),
        prepfoldSigma: Number(c.prepfold_sigma),
        snr: Number(c.snr),
        numHits: Number(c.num_hits),
        numHarmonics: Number(c.num_harmonics),
      });
    }
    return [...byId.values()];
  });
}
