/**
 * The pull requests of pull-request mode, through GitHub's REST API (@octokit/rest): the provisioner
 * keeps at most one open pull request, from its proposal branch to the deployed branch, holding
 * every accepted event not yet merged.
 */
import { Octokit } from "@octokit/rest";

export interface PullState {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  mergeCommitSha?: string;
  headSha: string;
  htmlUrl?: string;
}

export class PullRequests {
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;

  constructor(
    private readonly options: {
      token: string;
      apiUrl: string;
      /** `owner/name` */
      repository: string;
      /** Branch the pull requests merge into. */
      base: string;
      /** Branch they come from. */
      head: string;
      log: (level: "warn" | "info", msg: string) => void;
    },
  ) {
    const [owner = "", repo = ""] = options.repository.split("/");
    this.owner = owner;
    this.repo = repo;
    this.octokit = new Octokit({
      auth: options.token,
      baseUrl: options.apiUrl.replace(/\/+$/, ""),
      userAgent: "nodepoint-provisioner",
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: (m: string) => options.log("warn", `GitHub API: ${m}`),
        error: (m: string) => options.log("warn", `GitHub API: ${m}`),
      },
      request: { retries: 0 },
    });
  }

  private static state(p: {
    number: number;
    state: string;
    merged?: boolean | null;
    merged_at?: string | null;
    merge_commit_sha?: string | null;
    head: { sha: string };
    html_url?: string;
  }): PullState {
    return {
      number: p.number,
      state: p.state === "open" ? "open" : "closed",
      merged: p.merged === true || (p.merged === undefined && !!p.merged_at),
      ...(p.merge_commit_sha ? { mergeCommitSha: p.merge_commit_sha } : {}),
      headSha: p.head.sha,
      ...(p.html_url ? { htmlUrl: p.html_url } : {}),
    };
  }

  async get(number: number): Promise<PullState> {
    const { data } = await this.octokit.rest.pulls.get({ owner: this.owner, repo: this.repo, pull_number: number });
    return PullRequests.state(data);
  }

  /** The open pull request from the proposal branch, if any. */
  async findOpen(): Promise<PullState | undefined> {
    const { data } = await this.octokit.rest.pulls.list({
      owner: this.owner,
      repo: this.repo,
      state: "open",
      head: `${this.owner}:${this.options.head}`,
      base: this.options.base,
      per_page: 10,
    });
    const first = data[0];
    return first ? PullRequests.state(first) : undefined;
  }

  /** Opens the pull request, or updates the one already open (GitHub allows one per head and base). */
  async openOrUpdate(title: string, body: string): Promise<PullState> {
    const open = await this.findOpen();
    if (open) return this.update(open.number, title, body);
    try {
      const { data } = await this.octokit.rest.pulls.create({
        owner: this.owner,
        repo: this.repo,
        title,
        body,
        head: this.options.head,
        base: this.options.base,
        maintainer_can_modify: false,
      });
      return PullRequests.state(data);
    } catch (err) {
      // 422 "A pull request already exists": opened meanwhile; update that one.
      const again = (err as { status?: number }).status === 422 ? await this.findOpen() : undefined;
      if (again) return this.update(again.number, title, body);
      throw err;
    }
  }

  async update(number: number, title: string, body: string): Promise<PullState> {
    const { data } = await this.octokit.rest.pulls.update({
      owner: this.owner,
      repo: this.repo,
      pull_number: number,
      title,
      body,
    });
    return PullRequests.state(data);
  }

  async close(number: number): Promise<void> {
    await this.octokit.rest.pulls.update({ owner: this.owner, repo: this.repo, pull_number: number, state: "closed" });
  }
}
