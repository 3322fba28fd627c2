export * from "./ingress";
