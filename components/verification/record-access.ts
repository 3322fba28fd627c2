/**
 * What the verification Job may do to keep its record (#25), as plain objects (a pure planner; verification.ts
 * creates them): a ServiceAccount in the Job's namespace, a Role and its RoleBinding in the record's namespace (the
 * quality canary's, which mounts the ConfigMaps; by default the Job's). The Role allows exactly
 * `get` and `update` of the named ConfigMaps (each model's `fingerprint-<model>` and `verification-promotion`) and
 * `create` of ConfigMaps: RBAC cannot restrict create by name, "as the object's name is not known at authorization
 * time" (kubebuilder RBAC markers reference; the same rule in kubernetes/website access-authn-authz/rbac.md
 * "Referring to resources"; read 2026-12-07). No list, watch, patch or delete, and nothing outside the namespace.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { fingerprintConfigMapName } from "../fingerprint/store";
import { PROMOTION_CONFIGMAP } from "../contracts/stack-outputs";

const VERIFIER_SERVICE_ACCOUNT = "retrieval-verifier";

interface RecordAccessPlan {
  readonly serviceAccount: k8s.types.input.core.v1.ServiceAccount;
  readonly role: k8s.types.input.rbac.v1.Role;
  readonly roleBinding: k8s.types.input.rbac.v1.RoleBinding;
}

/** The names the Role lets the Job read and replace: every fingerprinted model's ConfigMap and the aliases'. */
function recordConfigMapNames(models: readonly string[], promotion: boolean): string[] {
  return [...models.map(fingerprintConfigMapName), ...(promotion ? [PROMOTION_CONFIGMAP] : [])];
}

export function planRecordAccess(
  namespaces: {
    /** Where the Job (and its service account) runs. */
    readonly job: pulumi.Input<string>;
    /** Where the record's ConfigMaps live: the quality canary's namespace, which mounts them. */
    readonly record: pulumi.Input<string>;
  },
  models: readonly string[],
  promotion: boolean,
  labels: Record<string, string>,
): RecordAccessPlan {
  const inRecord = { name: VERIFIER_SERVICE_ACCOUNT, namespace: namespaces.record, labels };
  return {
    // The token is mounted by the Job's pod spec only (automountServiceAccountToken there), never by default.
    serviceAccount: {
      metadata: { name: VERIFIER_SERVICE_ACCOUNT, namespace: namespaces.job, labels },
      automountServiceAccountToken: false,
    },
    role: {
      metadata: inRecord,
      rules: [
        {
          apiGroups: [""],
          resources: ["configmaps"],
          resourceNames: recordConfigMapNames(models, promotion),
          verbs: ["get", "update"],
        },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
      ],
    },
    // A RoleBinding may name a service account of another namespace: the Job's, when the record lives elsewhere.
    roleBinding: {
      metadata: inRecord,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: VERIFIER_SERVICE_ACCOUNT },
      subjects: [{ kind: "ServiceAccount", name: VERIFIER_SERVICE_ACCOUNT, namespace: namespaces.job }],
    },
  };
}
