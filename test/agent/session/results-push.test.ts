// A stopping agent hands back a succeeded search whose results were not delivered yet: its
// result comes back cancelled (requeued, not counted), once, and no push of it reports later.
import assert from "node:assert/strict";
import { ResultsPusher } from "../../../agent/session/results-push";
import { AttemptOutcome, ErrorClass, type AgentServiceClient, type AttemptResult } from "../../../shared/gen/agent";
import { silentLogger } from "../../../shared/logging/logger";
import { Metadata } from "@grpc/grpc-js";

const succeeded = (attemptId: number): AttemptResult => ({
  attemptId,
  outcome: AttemptOutcome.OUTCOME_SUCCEEDED,
  errorClass: ErrorClass.ERROR_CLASS_UNSPECIFIED,
  errorMessage: "",
  steps: [],
  resultsDir: `/scratch/results/${attemptId}`,
  logSeq: 0,
});

describe("results push: hand-back", () => {
  it("returns each undelivered search as cancelled with the reason, once; nothing is pushed or reported after", async () => {
    let pushes = 0;
    const reported: AttemptResult[] = [];
    let canPush = false;
    const client = {
      pushResults: () => {
        pushes++;
        throw new Error("no push expected");
      },
    } as unknown as AgentServiceClient;
    const pusher = new ResultsPusher({ client, metadata: () => new Metadata(), canPush: () => canPush, report: (r) => reported.push(r) });
    // The coordinator is away: both wait for a push.
    await pusher.add(succeeded(7), "/nonexistent/7", silentLogger());
    await pusher.add(succeeded(8), "/nonexistent/8", silentLogger());
    assert.deepEqual(pusher.attempts(), [7, 8]);

    const handed = pusher.handBack("handed back: SIGTERM");
    assert.deepEqual(
      handed.map((r) => [r.attemptId, r.outcome, r.errorClass, r.errorMessage]),
      [
        [7, AttemptOutcome.OUTCOME_CANCELLED, ErrorClass.ERROR_CLASS_CANCELLED, "handed back: SIGTERM"],
        [8, AttemptOutcome.OUTCOME_CANCELLED, ErrorClass.ERROR_CLASS_CANCELLED, "handed back: SIGTERM"],
      ],
    );
    assert.deepEqual(pusher.attempts(), [], "nothing is held any more");
    assert.deepEqual(pusher.handBack("again"), [], "handed back once");
    canPush = true;
    pusher.pushAll();
    assert.equal(pushes, 0, "no push starts for a handed-back attempt");
    assert.deepEqual(reported, [], "the pusher itself reports nothing: the agent reports the hand-back");
  });
});
