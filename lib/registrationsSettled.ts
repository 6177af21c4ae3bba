/**
 * When the engine has answered every registration of a component's resources, whether it accepted
 * or refused them: the moment the SDK lets go of what it holds for them (lib/declareInTurns.ts
 * paces the customer sites by it).
 *
 * A resource's URN settles when the engine answers its registration (`runtime/resource.js`
 * `registerResource`: `resolveURN` with the answer, or with the error), and `pulumi.isSecret` of an
 * Output settles with its value: it rejects when the registration failed. The component's resources
 * are the ones the SDK records as its children (`resource.js`: every resource adds itself to its
 * parent's `__childResources`, the set the SDK itself waits on when a resource `dependsOn` a
 * component); they are read once, when this is called: every resource a site declares, it declares
 * in its constructor. `tests/registrationsSettled.test.ts` pins that shape of the SDK.
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

/** Resolves once every registration under `component` is answered; never rejects. */
export function registrationsSettled(component: pulumi.Resource): Promise<void> {
  return Promise.allSettled(declaredUnder(component).map((r) => pulumi.isSecret(r.urn))).then(() => undefined);
}
