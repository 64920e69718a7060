// A child's exit status, given only once what it wrote has been read. Node may emit
// "exit" before the last chunks of the child's stdout and stderr pipes; "close" comes
// after them. A grandchild that keeps the pipes open is waited for at most graceMs.
import type { ChildProcess } from "node:child_process";

export function exitStatus(child: ChildProcess, graceMs = 5_000): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("close", (status) => resolve(status));
    child.once("exit", (status) => setTimeout(() => resolve(status), graceMs).unref());
  });
}
