import * as pulumi from "@pulumi/pulumi";
import { proxyHostProvider } from "../lib/npm/proxyHostProvider";

/** Identity and password of the NPM user the provider acts as. */
export interface NpmProxyHostCredentials {
  /** The NPM user's email address. */
  identity: pulumi.Input<string>;
  /** The NPM user's password. */
  secret: pulumi.Input<string>;
}

export interface NpmProxyHostArgs {
  /**
   * NPM API base URL including `/api`, e.g. `http://192.168.2.10:81/api` (NPM on VM 201). Changing
   * it replaces the host: it is removed from the old NPM, then created on the new one.
   */
  apiUrl: pulumi.Input<string>;
  /** NPM user to act as. Stored in state (delete and refresh need it), always marked secret. */
  credentials: pulumi.Input<NpmProxyHostCredentials>;
  /**
   * The site's domain, the one name the proxy host serves. Changing it replaces the host (the old
   * name is removed first). Deleting removes only this name from a host that serves others too.
   */
  domain: pulumi.Input<string>;
  /** Address to forward to: the site container's IP. */
  forwardHost: pulumi.Input<string>;
  /** Port to forward to over plain HTTP (default 80). */
  forwardPort?: pulumi.Input<number>;
  /**
   * Let's Encrypt account email. NPM registers certificates with its API user's email and takes
   * none in the request, so this must equal that user's email; a mismatch fails before any request
   * to Let's Encrypt.
   */
  email: pulumi.Input<string>;
  /** Redirect HTTP to HTTPS (default true). */
  sslForced?: pulumi.Input<boolean>;
}

/**
 * A proxy host on Nginx Proxy Manager for one customer domain: HTTP to the container, a Let's
 * Encrypt certificate, SSL forced. An existing host for the domain is adopted, never duplicated.
 */
export class NpmProxyHost extends pulumi.dynamic.Resource {
  /** NPM's id of the proxy host (can change if the host had to be recreated). */
  declare readonly hostId: pulumi.Output<number>;
  /** NPM's id of the host's Let's Encrypt certificate. */
  declare readonly certificateId: pulumi.Output<number>;
  /** The domain served (lower-case). */
  declare readonly domain: pulumi.Output<string>;
  /** Address forwarded to. */
  declare readonly forwardHost: pulumi.Output<string>;
  /** Port forwarded to. */
  declare readonly forwardPort: pulumi.Output<number>;

  constructor(name: string, args: NpmProxyHostArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      proxyHostProvider,
      name,
      {
        apiUrl: args.apiUrl,
        credentials: pulumi.secret(args.credentials),
        domain: args.domain,
        forwardHost: args.forwardHost,
        forwardPort: args.forwardPort ?? 80,
        email: args.email,
        sslForced: args.sslForced ?? true,
        hostId: undefined,
        certificateId: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["credentials"] }),
      "nodepoint",
      "NpmProxyHost",
    );
  }
}
