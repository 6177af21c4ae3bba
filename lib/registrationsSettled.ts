/**
 * When the engine has answered every registration under a component: the moment the SDK lets go of
 * what it holds for them (lib/declareInTurns.ts paces the customer sites by it).
 *
 * A resource's URN settles when the engine accepts its registration (`runtime/resource.js`
 * `registerResource`, `resolveURN`), and `pulumi.isSecret` of an Output settles with its value. A
 * registration the engine refuses does not settle it: `resolveURN` drops gRPC errors (the program
 * fails through the SDK's unhandled rejection instead), and a resource whose inputs depend on a
 * refused one is never sent. Such a component never settles; lib/declareInTurns.ts does not wait
 * for it forever. The component's resources are the ones the SDK records as its children
 * (`resource.js`: every resource adds itself to its parent's `__childResources`, the set the SDK
 * itself waits on when a resource `dependsOn` a component); they are read once, when this is called:
 * every resource a site declares, it declares in its constructor. `tests/registrationsSettled.test.ts`
 * pins that shape of the SDK.
 */
import * as pulumi from "@pulumi/pulumi";

interface WithChildren {
  __childResources?: Set<pulumi.Resource>;
}

/** The resources declared under `component`, at any depth. */
export function declaredUnder(component: pulumi.Resource): pulumi.Resource[] {
  const found: pulumi.Resource[] = [];
  const visit = (parent: pulumi.Resource) => {
    for (const child of (parent as WithChildren).__childResources ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(component);
  return found;
}

/** Resolves once the registrations of `resources` are all accepted; never rejects. */
export function urnsSettled(resources: readonly pulumi.Resource[]): Promise<void> {
  return Promise.allSettled(resources.map((r) => pulumi.isSecret(r.urn))).then(() => undefined);
}

/** Resolves once every registration under `component` is accepted; never rejects. */
export function registrationsSettled(component: pulumi.Resource): Promise<void> {
  return urnsSettled(declaredUnder(component));
}
