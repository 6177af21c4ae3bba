/**
 * NPM runs certbot with one shared work directory: two certificate requests at once fail with
 * "Another instance of Certbot is already running" (NPM's own renewals run one by one for that
 * reason). Every NpmProxyHost of one `pulumi up` is served by the same dynamic-provider process,
 * which loads this module once: queueing here keeps that run's requests to one at a time.
 */
let tail: Promise<unknown> = Promise.resolve();

/** Runs `task` after every task queued before it has settled; resolves or rejects as `task` does. */
export function oneCertbotAtATime<T>(task: () => Promise<T>): Promise<T> {
  const run = tail.then(task);
  tail = run.catch(() => undefined);
  return run;
}
