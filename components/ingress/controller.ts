import type { IngressControllerDriver } from "./driver";
import { nginxIngressController } from "./nginx-ingress";

/**
 * The controller the Ingress component drives (the interface: driver.ts): F5 NGINX Ingress Controller (open
 * source), API keys and rate limits without snippets (README, "Ingress").
 */
export const controller: IngressControllerDriver = nginxIngressController;
