/**
 * The port of every engine's Service. ModelService publishes each engine behind a Service named after the model
 * whose port 80 ("http") forwards to the engine's own container port (8000, 30000, 80, 8080, 9997): its in-cluster
 * URL, http://<model>.<namespace>.svc.cluster.local, carries no port. The ingress routes to this port only.
 */
export const MODEL_SERVICE_PORT = 80;
