// Notices from a running coordinator: a job that fails for good sends one
// email, received by a real SMTP server on loopback.
import assert from "node:assert/strict";
import { Cluster, waitFor } from "../../support/cluster";
import { parseMail, startSmtp, type Smtp, mailTo } from "./helpers";

describe("notices from a running coordinator", function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let smtp: Smtp;

  afterEach(async () => {
    await cluster?.close();
    await smtp?.close();
  });

  it("emails once when a job fails for good, naming the job, beam, attempts and last error", async () => {
    smtp = await startSmtp();
    cluster = await Cluster.create({
      jobs: { max_attempts: 2 },
      notify: { email: mailTo(smtp) },
    });
    await cluster.startCoordinator();
    await cluster.startAgent("node1");
    const [id] = await cluster.submit(["sh", "-c", "echo broken beam >&2; exit 3"], 1, "p2030.20230225.G037.00-00.10.C.b0.00000");
    await cluster.waitForJobs((js) => js[0]?.status === "terminal_failure", "the job to fail for good");
    await waitFor("the email", () => smtp.mails.length >= 1, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(smtp.mails.length, 1, "one email");
    const mail = parseMail(smtp.mails[0].raw);
    assert.match(mail.subject, new RegExp(`failed for good .* job ${id} \\(p2030\\.20230225\\.G037\\.00-00\\.10\\.C\\.b0\\.00000\\)`));
    assert.match(mail.text, /node1/);
    assert.match(mail.text, /exit/);
    assert.match(mail.text, /Raw data deleted: no/);
  });
});
