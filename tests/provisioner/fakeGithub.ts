/**
 * A GitHub REST API on loopback for the pull requests of one repository, backed by a bare git
 * repository on disk (the same one the provisioner pushes to). It answers the way GitHub documents
 * (docs.github.com/rest/pulls; shapes typed from @octokit/openapi-types, GitHub's own OpenAPI
 * description): 201 on create, 422 "Validation Failed" for a head that does not exist, for no
 * commits between base and head, and for a second open pull request of the same head; 401 "Bad
 * credentials"; 404 "Not Found"; merge with 405 when not mergeable and 409 when the head moved.
 * A pull request's head follows its branch while open, as on GitHub.
 */
import { spawnSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import type { components } from "@octokit/openapi-types";
import Fastify, { type FastifyReply } from "fastify";

type Pull = components["schemas"]["pull-request"];
type PullSimple = components["schemas"]["pull-request-simple"];
type Ref = Pick<Pull["head"], "label" | "ref" | "sha">;
/** Fields the list endpoint (pull-request-simple) and a single pull request share. */
type CommonKeys =
  | "url"
  | "id"
  | "node_id"
  | "html_url"
  | "number"
  | "state"
  | "locked"
  | "title"
  | "body"
  | "created_at"
  | "updated_at"
  | "closed_at"
  | "merged_at"
  | "merge_commit_sha"
  | "draft";
/** The fields of GitHub's pull request object the fake keeps (names and types from GitHub's schema). */
type FakePull = Pick<
  Pull,
  CommonKeys | "merged" | "mergeable" | "mergeable_state" | "maintainer_can_modify" | "commits"
> & {
  head: Ref;
  base: Ref;
};
/** The list endpoint answers pull-request-simple: no merged, mergeable or counts. */
type FakePullSimple = Pick<PullSimple, CommonKeys> & { head: Ref; base: Ref };
type ValidationError = components["schemas"]["validation-error"];
type BasicError = components["schemas"]["basic-error"];
type MergeResult = components["schemas"]["pull-request-merge-result"];

const DOCS = "https://docs.github.com/rest/pulls/pulls";

function simple(p: FakePull): FakePullSimple {
  const {
    merged: _merged,
    mergeable: _mergeable,
    mergeable_state: _state,
    maintainer_can_modify: _mcm,
    commits: _commits,
    ...rest
  } = p;
  return rest;
}

export class FakeGithub {
  readonly pulls: FakePull[] = [];
  /** Every request: method, path, whether it was authenticated. */
  readonly requests: Array<{ method: string; url: string; auth: boolean }> = [];
  private readonly app = Fastify();
  url = "";

  constructor(private readonly options: { bare: string; owner: string; repo: string; token: string }) {
    const { owner, repo } = options;
    const base = `/repos/${owner}/${repo}`;
    this.app.addHook("onRequest", async (req, reply) => {
      const auth = req.headers.authorization ?? "";
      const ok = auth === `token ${options.token}` || auth === `Bearer ${options.token}`;
      this.requests.push({ method: req.method, url: req.url, auth: ok });
      if (!ok)
        return this.fail(reply, 401, {
          message: "Bad credentials",
          documentation_url: "https://docs.github.com/rest",
          status: "401",
        });
    });
    this.app.get(`${base}/pulls`, async (req) => {
      const q = req.query as { state?: string; head?: string; base?: string };
      const state = q.state ?? "open";
      return this.pulls
        .map((p) => this.refresh(p))
        .filter((p) => state === "all" || p.state === state)
        .filter((p) => !q.head || q.head === `${owner}:${p.head.ref}`)
        .filter((p) => !q.base || q.base === p.base.ref)
        .map(simple);
    });
    this.app.post(`${base}/pulls`, async (req, reply) => {
      const b = req.body as {
        title?: string;
        head?: string;
        base?: string;
        body?: string;
        maintainer_can_modify?: boolean;
      };
      if (!b.title || !b.head || !b.base)
        return this.invalid(reply, {
          resource: "PullRequest",
          code: "missing_field",
          field: !b.title ? "title" : !b.head ? "head" : "base",
        });
      const headSha = this.branch(b.head);
      const baseSha = this.branch(b.base);
      if (!headSha) return this.invalid(reply, { resource: "PullRequest", field: "head", code: "invalid" });
      if (!baseSha) return this.invalid(reply, { resource: "PullRequest", field: "base", code: "invalid" });
      if (this.pulls.some((p) => p.state === "open" && p.head.ref === b.head && p.base.ref === b.base))
        return this.invalid(reply, {
          resource: "PullRequest",
          code: "custom",
          message: `A pull request already exists for ${owner}:${b.head}.`,
        });
      if (this.git("rev-list", "--count", `${baseSha}..${headSha}`).trim() === "0")
        return this.invalid(reply, {
          resource: "PullRequest",
          code: "custom",
          message: `No commits between ${b.base} and ${b.head}`,
        });
      const number = this.pulls.length + 1;
      const now = new Date().toISOString();
      const pull: FakePull = {
        url: `${this.url}${base}/pulls/${number}`,
        id: 1000 + number,
        node_id: `PR_${number}`,
        html_url: `https://github.com/${owner}/${repo}/pull/${number}`,
        number,
        state: "open",
        locked: false,
        title: b.title,
        body: b.body ?? null,
        created_at: now,
        updated_at: now,
        closed_at: null,
        merged_at: null,
        merge_commit_sha: null,
        draft: false,
        merged: false,
        mergeable: true,
        mergeable_state: "clean",
        maintainer_can_modify: b.maintainer_can_modify ?? true,
        commits: 1,
        head: { label: `${owner}:${b.head}`, ref: b.head, sha: headSha },
        base: { label: `${owner}:${b.base}`, ref: b.base, sha: baseSha },
      };
      this.pulls.push(pull);
      return reply.code(201).send(pull);
    });
    this.app.get(`${base}/pulls/:number`, async (req, reply) => {
      const p = this.find(req.params);
      return p
        ? this.refresh(p)
        : this.fail(reply, 404, { message: "Not Found", documentation_url: DOCS, status: "404" });
    });
    this.app.patch(`${base}/pulls/:number`, async (req, reply) => {
      const p = this.find(req.params);
      if (!p) return this.fail(reply, 404, { message: "Not Found", documentation_url: DOCS, status: "404" });
      const b = req.body as { title?: string; body?: string; state?: "open" | "closed" };
      if (b.title !== undefined) p.title = b.title;
      if (b.body !== undefined) p.body = b.body;
      if (b.state === "closed" && p.state === "open") {
        this.refresh(p);
        p.state = "closed";
        p.closed_at = new Date().toISOString();
      }
      p.updated_at = new Date().toISOString();
      return this.refresh(p);
    });
    this.app.put(`${base}/pulls/:number/merge`, async (req, reply) => {
      const p = this.find(req.params);
      if (!p) return this.fail(reply, 404, { message: "Not Found", documentation_url: DOCS, status: "404" });
      this.refresh(p);
      const b = (req.body ?? {}) as { merge_method?: "merge" | "squash"; sha?: string };
      if (p.state !== "open")
        return this.fail(reply, 405, {
          message: "Pull Request is not mergeable",
          documentation_url: DOCS,
          status: "405",
        });
      if (b.sha && b.sha !== p.head.sha)
        return this.fail(reply, 409, {
          message: "Head branch was modified. Review and try the merge again.",
          documentation_url: DOCS,
          status: "409",
        });
      const baseSha = this.branch(p.base.ref)!;
      const tree = spawnSync("git", ["merge-tree", "--write-tree", baseSha, p.head.sha], {
        cwd: options.bare,
        encoding: "utf8",
      });
      if (tree.status !== 0)
        return this.fail(reply, 405, {
          message: "Pull Request is not mergeable",
          documentation_url: DOCS,
          status: "405",
        });
      const treeId = tree.stdout.split("\n")[0]!.trim();
      const messages = this.git("log", "--format=%B%x1e", `${baseSha}..${p.head.sha}`)
        .split("\x1e")
        .map((m) => m.trim())
        .filter(Boolean);
      const sha =
        b.merge_method === "squash"
          ? this.commitTree(
              treeId,
              [baseSha],
              `${p.title} (#${p.number})\n\n${messages.map((m) => `* ${m.replace(/\n/g, "\n  ")}`).join("\n\n")}\n`,
            )
          : this.commitTree(
              treeId,
              [baseSha, p.head.sha],
              `Merge pull request #${p.number} from ${owner}/${p.head.ref}\n\n${p.title}\n`,
            );
      this.git("update-ref", `refs/heads/${p.base.ref}`, sha, baseSha);
      const now = new Date().toISOString();
      Object.assign(p, {
        state: "closed",
        merged: true,
        merged_at: now,
        closed_at: now,
        merge_commit_sha: sha,
        mergeable: null,
      });
      const result: MergeResult = { sha, merged: true, message: "Pull Request successfully merged" };
      return result;
    });
    this.app.setNotFoundHandler(async (_req, reply) =>
      this.fail(reply, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }),
    );
  }

  async listen(): Promise<void> {
    await this.app.listen({ port: 0, host: "127.0.0.1" });
    this.url = `http://127.0.0.1:${(this.app.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return this.app.close();
  }

  private fail(reply: FastifyReply, status: number, body: BasicError) {
    return reply.code(status).send(body);
  }

  private invalid(reply: FastifyReply, error: NonNullable<ValidationError["errors"]>[number]) {
    const body: ValidationError = {
      message: "Validation Failed",
      documentation_url: `${DOCS}#create-a-pull-request`,
      errors: [error],
    };
    return reply.code(422).send({ ...body, status: "422" });
  }

  private find(params: unknown): FakePull | undefined {
    const n = Number((params as { number: string }).number);
    return this.pulls.find((p) => p.number === n);
  }

  /** An open pull request's head follows its branch (a push updates it), as on GitHub. */
  private refresh(p: FakePull): FakePull {
    if (p.state === "open") {
      const sha = this.branch(p.head.ref);
      if (sha) p.head.sha = sha;
      p.base.sha = this.branch(p.base.ref) ?? p.base.sha;
    }
    return p;
  }

  private branch(name: string): string | undefined {
    const r = spawnSync("git", ["rev-parse", "--verify", "--quiet", `refs/heads/${name}`], {
      cwd: this.options.bare,
      encoding: "utf8",
    });
    return r.status === 0 ? r.stdout.trim() : undefined;
  }

  private git(...args: string[]): string {
    const r = spawnSync("git", args, { cwd: this.options.bare, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  private commitTree(tree: string, parents: string[], message: string): string {
    const r = spawnSync("git", ["commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-F", "-"], {
      cwd: this.options.bare,
      encoding: "utf8",
      input: message,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "GitHub",
        GIT_AUTHOR_EMAIL: "noreply@github.com",
        GIT_COMMITTER_NAME: "GitHub",
        GIT_COMMITTER_EMAIL: "noreply@github.com",
      },
    });
    if (r.status !== 0) throw new Error(`git commit-tree: ${r.stderr}`);
    return r.stdout.trim();
  }
}
