import * as pulumi from "@pulumi/pulumi";
import { PROVIDER_LOADER } from "../lib/npm/providerLoader";

export interface NpmProxyHostArgs {
  /**
   * NPM API base URL including `/api` (`http://<npm-host>:81/api`). Changing it replaces the host: it is removed from the old NPM, then created on the new one.
   */
  apiUrl: pulumi.Input<string>;
  /**
   * The site's domain, the one name the proxy host serves. Changing it replaces the host (the old
   * name is removed first). Deleting removes only this name from a host that serves others too.
   */
  domain: pulumi.Input<string>;
  /** Address to forward to: the site container's IP. */
  forwardHost: pulumi.Input<string>;
  /** Port to forward to over plain HTTP (default 80). */
  forwardPort?: pulumi.Input<number>;
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
 * The provider acts as the stack's NPM automation user (`nodepoint:npm` identity,
 * `nodepoint:npmPassword`), which the engine hands every dynamic provider with the stack's config:
 * no credential is stored with the host. Let's Encrypt registers its certificate under that user's
 * email (NPM takes no other), so that address is the certificate contact.
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
        domain: args.domain,
        forwardHost: args.forwardHost,
        forwardPort: args.forwardPort ?? 80,
        sslForced: args.sslForced ?? true,
        hostId: undefined,
        certificateId: undefined,
      },
      opts,
    );
  }
}
