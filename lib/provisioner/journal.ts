/**
 * The provisioner's journal: an append-only file of JSON lines, each flushed to disk (fdatasync)
 * before the request it records is answered. Appends that arrive while a flush is under way are
 * written together by the next flush (group commit), so a burst of requests costs one disk flush
 * per batch, not one per request, and order is kept.
 *
 * On start the journal is read back: a last line cut short by a crash (never acknowledged, since
 * its flush did not finish) is dropped, and the file is rewritten with only what is still open.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { journalRecordSchema, type JournalRecord } from "./events";

export interface JournalContents {
  records: JournalRecord[];
  /** Lines that were not records (a torn last line), with their line numbers. */
  dropped: Array<{ line: number; text: string }>;
}

/** Reads a journal file; a missing file is an empty journal. Throws on a bad line that is not the last. */
export function readJournal(path: string): JournalContents {
  if (!existsSync(path)) return { records: [], dropped: [] };
  const lines = readFileSync(path, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  const records: JournalRecord[] = [];
  const dropped: JournalContents["dropped"] = [];
  lines.forEach((text, i) => {
    let parsed: ReturnType<typeof journalRecordSchema.safeParse> | undefined;
    try {
      parsed = journalRecordSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) records.push(parsed.data);
    else if (i === lines.length - 1) dropped.push({ line: i + 1, text });
    else throw new Error(`${path}:${i + 1}: not a journal record; the journal is damaged (fix or move it by hand)`);
  });
  return { records, dropped };
}

/** Replaces the journal's contents atomically (write, flush, rename, flush the directory). */
export function rewriteJournal(path: string, records: readonly JournalRecord[]): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirectory(dirname(path));
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The open journal: `append` resolves once the record is on disk. */
export class Journal {
  private queue: Array<{ line: string; resolve: () => void; reject: (e: Error) => void }> = [];
  private flushing = false;
  private failed: Error | undefined;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<Journal> {
    const handle = await open(path, "a", 0o600);
    return new Journal(handle, path);
  }

  /** Writes the record; resolves when it (and everything appended before it) is flushed to disk. */
  append(record: JournalRecord): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ line: `${JSON.stringify(record)}\n`, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.handle.appendFile(batch.map((b) => b.line).join(""));
        await this.handle.datasync();
        for (const b of batch) b.resolve();
      } catch (err) {
        // The disk refused: nothing after this point may be acknowledged.
        this.failed = err as Error;
        for (const b of [...batch, ...this.queue]) b.reject(this.failed);
        this.queue = [];
      }
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    while (this.flushing) await new Promise((r) => setImmediate(r));
    await this.handle.close();
  }
}

export const JOURNAL_FILE = "journal.jsonl";
export const journalPath = (stateDir: string): string => join(stateDir, JOURNAL_FILE);
