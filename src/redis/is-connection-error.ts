/**
 * Errors that mean "Redis is not reachable right now" (a restart, a failover, a network cut), as
 * ioredis and BullMQ word them: reported as an outage, not as a bug.
 */
const CONNECTION_TROUBLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|Connection is closed|connect ETIMEDOUT|max retries per request|Stream isn't writeable|READONLY|LOADING|CLUSTERDOWN|MASTERDOWN|All sentinels are unreachable|Failed to refresh slots cache|None of the sentinels are available/i;

export function isConnectionError(error: Error): boolean {
  return CONNECTION_TROUBLE.test(error.message) || CONNECTION_TROUBLE.test(String((error as { code?: unknown }).code ?? ''));
}
