import * as pulumi from "@pulumi/pulumi";
import { PROVIDER_LOADER } from "../lib/npm/providerLoader";

/** Identity and password of the NPM user the provider acts as. */
export interface NpmProxyHostCredentials {
  /** The NPM user's email address. */
  identity: pulumi.Input<string>;
  /** The NPM user's password. */
  secret: pulumi.Input<string>;
}

export interface NpmProxyHostArgs {
  /**
   * NPM API base URL including `/api` (`http://<npm-host>:81/api`). Changing it replaces the host: it is removed from the old NPM, then created on the new one.
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

/** The dynamic resource type: the `pulumi-nodejs` package is the one the Node.js dynamic-provider plugin serves. */
export const NPM_PROXY_HOST_TYPE = "pulumi-nodejs:dynamic/nodepoint:NpmProxyHost";

/**
 * A proxy host on Nginx Proxy Manager for one customer domain: HTTP to the container, a Let's
 * Encrypt certificate, SSL forced. An existing host for the domain is adopted, never duplicated.
 * Make it depend on the domain's DNS record: Let's Encrypt's HTTP challenge needs it.
 *
 * A dynamic resource (`lib/npm/proxyHostProvider.ts`) whose `__provider` is the small loader of
 * `lib/npm/providerLoader.ts` instead of the provider's serialized closure (why: there). That is
 * what `pulumi.dynamic.Resource` would register, with another `__provider` text, so it is
 * registered as the plain custom resource of the same type.
 */
export class NpmProxyHost extends pulumi.CustomResource {
  /** NPM's id of the proxy host (can change if the host had to be recreated). */
  declare readonly hostId: pulumi.Output<number>;
  /** NPM's id of the certificate the host serves HTTPS with; 0 when it has no usable one. */
  declare readonly certificateId: pulumi.Output<number>;
  /** The domain served (lower-case). */
  declare readonly domain: pulumi.Output<string>;
  /** Address forwarded to. */
  declare readonly forwardHost: pulumi.Output<string>;
  /** Port forwarded to. */
  declare readonly forwardPort: pulumi.Output<number>;

  constructor(name: string, args: NpmProxyHostArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      NPM_PROXY_HOST_TYPE,
      name,
      {
        __provider: PROVIDER_LOADER,
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
    );
  }
}
