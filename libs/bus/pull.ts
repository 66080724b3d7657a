// The pull settings of every long-lived consumer (the runner's durables, the timer followers).
// The client's defaults (a 30 s pull, a heartbeat every 15 s) notice a pull whose server died
// only after two missed heartbeats: 30–45 s of silence when a cluster node is lost. With a 5 s
// pull and a heartbeat every second, it is noticed after ~2 s and the pull is made again
// elsewhere; the cost is one pull request per consumer every 5 s and one heartbeat a second
// while idle.
export const PULL_EXPIRES_MS = 2_000;
/** At most half the expiry: the server refuses a larger heartbeat. */
export const PULL_IDLE_HEARTBEAT_MS = 500;

export const PULL_OPTIONS = { expires: PULL_EXPIRES_MS, idle_heartbeat: PULL_IDLE_HEARTBEAT_MS } as const;
