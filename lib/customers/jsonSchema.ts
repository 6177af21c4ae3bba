import { z } from "zod";
import { customerFileSchema } from "./schema";

/** Path of the generated JSON Schema, relative to the project (customer files point at it). */
export const CUSTOMER_JSON_SCHEMA_PATH = "schemas/customer.schema.json";

/** JSON Schema of a customer file, for editors (yaml-language-server), generated from the zod schema. */
export function customerJsonSchema(): string {
  const schema = z.toJSONSchema(customerFileSchema, { io: "input" }) as Record<string, unknown>;
  return `${JSON.stringify({ ...schema, title: "nodepoint customer file (customers/<slug>.yaml)" }, null, 2)}\n`;
}
