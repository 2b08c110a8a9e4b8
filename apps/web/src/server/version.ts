/** The version of the control plane, shown in /healthz and sent to agents. */
export const VERSION = "0.1.0";
