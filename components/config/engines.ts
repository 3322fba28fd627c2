import { z } from "zod";

/**
 * Platform-level engine settings, the same for every engine (engine knowledge stays in the adapters).
 * `installPrerequisites`: install the cluster-wide software the stack's models' engines declare (today: KServe's
 * CRDs, controller and runtime template when a model uses engine kserve), once per stack; nothing for engines no
 * model uses. false: that software must already be on the cluster (e.g. a platform team runs KServe).
 */
export const EnginesSchema = z.strictObject({
  installPrerequisites: z.boolean().default(true).meta({
    description:
      "Install what the models' engines need cluster-wide (KServe for kserve models), nothing for unused engines; false if it is already there.",
  }),
});
export type EnginesConfig = z.infer<typeof EnginesSchema>;
