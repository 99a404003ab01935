/** The control socket's protocol: one JSON request per line, one JSON response per line. */
export const CONTROL_COMMANDS = ['status', 'reload', 'ttin', 'ttou', 'stop'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface WorkerStatus {
  readonly id: number;
  readonly pid: number;
  readonly state: string;
  readonly requests: number;
  readonly rss: number;
  readonly heartbeatAgeMs: number;
  readonly ageMs: number;
}

export interface ServerStatus {
  readonly name: string;
  readonly pid: number;
  readonly state: string;
  readonly uptimeMs: number;
  readonly desiredWorkers: number;
  readonly restarts: number;
  readonly listeners: readonly string[];
  readonly workers: readonly WorkerStatus[];
}

export type ControlRequest = { readonly command: ControlCommand };
export type ControlResponse = { readonly ok: true; readonly status?: ServerStatus } | { readonly ok: false; readonly error: string };

export function isControlRequest(value: unknown): value is ControlRequest {
  return typeof value === 'object' && value !== null && CONTROL_COMMANDS.includes((value as ControlRequest).command);
}
