import * as pulumi from "@pulumi/pulumi";

/**
 * Checks that a component was given, in its resource options (`provider` or `providers`, as
 * pulumi-eks takes them), a provider for each package its children use; the children, declared
 * with `{ parent: this }`, inherit it. Without one they would fall back to the package's default
 * provider, configured from whatever the stack's `<package>:*` keys hold (for Proxmox VE, the
 * administrator's token): refused, naming the component and the package, before any child exists.
 */
export function requireProviders(component: pulumi.ComponentResource, name: string, packages: readonly string[]): void {
  const missing = packages.filter((pkg) => component.getProvider(`${pkg}:index:Any`) === undefined);
  if (missing.length > 0)
    throw new pulumi.ResourceError(
      `${name}: no provider for ${missing.join(", ")} in the resource options (pass { provider } or { providers })`,
      component,
    );
}
