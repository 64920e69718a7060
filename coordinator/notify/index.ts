// Notices to people (mail, webhook) about failed jobs, lost agents and crashes.
export { notifySchema, emailSchema, webhookSchema, SWITCH_KEYS } from "../../shared/config/notify-schema";
export type { NotifyConfig, NotifyConfigInput, EmailConfig, WebhookConfig, NoticeSwitches, SwitchKey } from "../../shared/config/notify-schema";
export type {
  NotifyEvent,
  NotifyEventKind,
  JobFailedWillRetry,
  JobFailedForGood,
  PrecheckFailed,
  AgentLost,
  AgentDrained,
  ComponentCrashed,
  AttemptSummary,
} from "./events";
export { SWITCH_OF } from "./events";
export { buildNotice, DEFAULT_SUBJECT_PREFIX, type Notice, type NoticeJson } from "./notice";
export { Notifier, NotifyConfigError, type NotifierOptions } from "./notifier";
export { signature, verifySignature, SIGNATURE_HEADER, type WebhookPayload } from "./webhook";
export { noticeForJobChange, agentLostNotice, type JobChangeOptions } from "./from-tracker";
