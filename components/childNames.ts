import type * as pulumi from "@pulumi/pulumi";

/**
 * The options that keep a renamed child's URN: an alias with the name it had before (same type and
 * parent), so the engine takes the resource of the state for it and replaces nothing. Children are
 * named from their component's name (`<component>-<child>`, as in pulumi-awsx); the ones that had
 * another name before carry this, and the desired-state diff shows only the alias.
 */
export function formerlyNamed(former: string): { aliases: pulumi.Input<pulumi.Alias>[] } {
  return { aliases: [{ name: former }] };
}
