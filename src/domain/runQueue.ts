/**
 * The message that asks for a requested run to start at once (POST /api/v1/snapshots). The run
 * record is the source of truth; the message only wakes a worker, so a lost one costs a wait for
 * the resume timer and a duplicate one costs nothing (the run's lease admits one worker).
 */
export interface RunRequestQueue {
  /** Puts a message naming `runId` on the queue. */
  request(runId: string): Promise<void>;
}

/** The body of a snapshot-request message. */
export interface RunRequestMessage {
  runId: string;
}
