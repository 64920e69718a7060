// Turns an event into what the channels send: a mail subject and plain-text
// body, and a JSON document for the webhook. Pure: same event, same notice.
import type { NotifyEvent, NotifyEventKind } from "./events";

export interface NoticeJson {
  /** the event's kind, e.g. "job_failed_for_good" */
  event: NotifyEventKind;
  /** the subject without the mail prefix */
  title: string;
  /** the event's fields (everything but `kind`) */
  data: Record<string, unknown>;
}

export interface Notice {
  subject: string;
  text: string;
  json: NoticeJson;
}

export const DEFAULT_SUBJECT_PREFIX = "beamflow:";

/** One header line: no control characters, no runs of blanks, bounded length. */
function oneLine(s: string, max = 200): string {
  const flat = s
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

function indent(s: string, by = "    "): string {
  const body = s.trimEnd();
  return body === ""
    ? `${by}(none given)`
    : body
        .split(/\r?\n/)
        .map((l) => by + l)
        .join("\n");
}

function isoTime(unixS: number | null): string {
  if (unixS == null || !Number.isFinite(unixS)) return "never";
  return new Date(unixS * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const plural = (n: number, one: string, many = one + "s") => `${n} ${n === 1 ? one : many}`;

function titleOf(e: NotifyEvent): string {
  switch (e.kind) {
    case "job_failed_will_retry":
      return `failed, will be retried (${e.attemptsUsed} of ${e.maxAttempts} attempts used) — job ${e.job} (${e.beam})`;
    case "job_failed_for_good":
      return `failed for good${e.rawDataDeleted ? ", raw data deleted" : ""} — job ${e.job} (${e.beam})`;
    case "precheck_failed":
      return `presubmission check failed — job ${e.job} (${e.beam})`;
    case "upload_failed":
      return `upload failed for good — job ${e.job} (${e.beam})`;
    case "agent_lost":
      return `agent lost, ${plural(e.attempts.length, "attempt")} requeued — agent ${e.agent}${e.hostname ? ` (${e.hostname})` : ""}`;
    case "agent_drained":
      return `agent drained${e.by === "auto" ? " automatically" : ""}, it gets no new beams — agent ${e.agent}${e.hostname ? ` (${e.hostname})` : ""}`;
    case "component_crashed":
      return `crashed — ${e.component}`;
  }
}

function textOf(e: NotifyEvent): string {
  switch (e.kind) {
    case "job_failed_will_retry":
      return [
        `Job ${e.job} (beam ${e.beam}) failed and will be retried.`,
        "",
        `Attempt:        #${e.attempt}`,
        `Attempts used:  ${e.attemptsUsed} of ${e.maxAttempts}`,
        `Error class:    ${e.errorClass || "(none)"}`,
        "Error:",
        indent(e.error),
      ].join("\n");
    case "job_failed_for_good": {
      const attempts = e.attempts.length
        ? e.attempts.map((a) =>
            [
              `  #${a.id}  agent ${a.agent}  ${a.status}${a.errorClass && a.errorClass !== a.status ? `  ${a.errorClass}` : ""}`,
              ...(a.details.trim() ? [indent(a.details, "        ")] : []),
            ].join("\n"),
          )
        : ["  (none: the job never reached an agent)"];
      return [
        `Job ${e.job} (beam ${e.beam}) failed for good: it used its last attempt and will not be retried.`,
        "",
        `Raw data deleted: ${e.rawDataDeleted ? "yes" : "no"}`,
        "",
        `Attempts (${e.attempts.length}, oldest first):`,
        ...attempts,
        "",
        "Last error:",
        indent(e.lastError),
        "",
        e.rawDataDeleted
          ? `The raw data was deleted: to search this beam again, add its files again.`
          : `To give the job a new round of attempts: beamflow retry ${e.job}`,
      ].join("\n");
    }
    case "precheck_failed":
      return [
        `Job ${e.job} (beam ${e.beam}) failed its presubmission check and failed for good; it was not given to an agent.`,
        "",
        "Reason:",
        indent(e.reason),
        "",
        `Once the cause is fixed: beamflow retry ${e.job}`,
      ].join("\n");
    case "upload_failed":
      return [
        `The results of job ${e.job} (beam ${e.beam}, attempt ${e.attempt}) failed to upload ${plural(e.uploadsTried, "time")}; the job is upload_failed.`,
        "The search itself succeeded and is kept; the beam will not be searched again for this.",
        "",
        "Last error:",
        indent(e.lastError),
        "",
        `Results: ${e.resultsDir}`,
        `Once the cause is fixed: beamflow retry ${e.job}   (a new round of uploads)`,
      ].join("\n");
    case "agent_lost":
      return [
        `Agent ${e.agent}${e.hostname ? ` on ${e.hostname}` : ""} stopped renewing its leases (last seen ${isoTime(e.lastSeenAt)}).`,
        `Its ${plural(e.attempts.length, "attempt")} ${e.attempts.length === 1 ? "was" : "were"} lost and requeued (not counted as failures):`,
        ...(e.attempts.length ? e.attempts.map((a) => `  #${a.id}  job ${a.job} (${a.beam})`) : ["  (none)"]),
      ].join("\n");
    case "agent_drained":
      return [
        `Agent ${e.agent}${e.hostname ? ` on ${e.hostname}` : ""} was drained${e.by === "auto" ? " automatically" : ` (by ${e.by})`}: it gets no new beams; what it runs now finishes.`,
        "",
        "Reason:",
        indent(e.reason),
        ...(e.failures.length
          ? [
              "",
              `Failed attempts (${e.failures.length}, oldest first):`,
              ...e.failures.map((f) =>
                [
                  `  #${f.attempt}  job ${f.job} (${f.beam})${f.errorClass ? `  ${f.errorClass}` : ""}`,
                  ...(f.details.trim() ? [indent(f.details, "        ")] : []),
                ].join("\n"),
              ),
            ]
          : []),
        "",
        `Once the node is fixed: beamflow undrain ${e.agent}`,
      ].join("\n");
    case "component_crashed":
      return [`The coordinator component "${e.component}" crashed.`, "", "Error:", indent(e.error), "", "Stack:", indent(e.stack)].join("\n");
  }
}

/** Subject (with the mail prefix), plain-text body and webhook JSON of one event. */
export function buildNotice(event: NotifyEvent, subjectPrefix: string = DEFAULT_SUBJECT_PREFIX): Notice {
  const title = oneLine(titleOf(event), 240);
  const { kind, ...data } = event;
  const prefix = oneLine(subjectPrefix, 60);
  return {
    subject: prefix ? `${prefix} ${title}` : title,
    text: textOf(event) + "\n",
    json: { event: kind, title, data: structuredClone(data) as Record<string, unknown> },
  };
}
