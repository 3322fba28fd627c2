import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** Labels every object we create carries (Kubernetes recommended labels). */
export function standardLabels(
  name: string,
  component: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "retrieval-stack",
    "app.kubernetes.io/managed-by": "pulumi",
    ...extra,
  };
}

/** Options for a component's children: parented to it and bound to the stack's Kubernetes provider. */
export function childOptions(
  parent: pulumi.Resource,
  provider: k8s.Provider,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return { ...extra, parent, provider };
}

/**
 * Options that keep an existing stack's object when a child's resource name changes (a literal name that became one
 * derived from its component's name): the former name is an alias, so `pulumi up` renames the resource in its state
 * instead of deleting and recreating the object. Nothing when the names are equal.
 */
export function formerlyNamed(name: string, formerName: string): pulumi.CustomResourceOptions {
  return name === formerName ? {} : { aliases: [{ name: formerName }] };
}

/**
 * A child's resource name, `<component>-<suffix>`, and the options that keep the object it was in stacks created when
 * its name was the literal `formerName` (formerlyNamed).
 */
export function derivedChild(
  component: string,
  suffix: string,
  formerName: string,
): { readonly name: string; readonly opts: pulumi.CustomResourceOptions } {
  const name = `${component}-${suffix}`;
  return { name, opts: formerlyNamed(name, formerName) };
}

/** The label and taint that mark GPU nodes; GPU pods tolerate it and nothing else lands there. */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" } as const;
/** Node label naming a GPU node group, and the GPU class label (a10g, l4, l40s, a100, h100). */
export const NODE_GROUP_LABEL = "retrieval-stack.io/node-group";
export const GPU_CLASS_LABEL = "retrieval-stack.io/gpu-class";
export const GPU_RESOURCE = "nvidia.com/gpu";
