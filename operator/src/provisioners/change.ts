/** Something a provisioner changed, reported as a Kubernetes Event (or printed by dev mode). */
export interface Change {
  reason: string;
  message: string;
}
