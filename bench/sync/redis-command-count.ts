import type { Redis } from 'ioredis';

/**
 * Redis commands executed while `work` runs, from INFO commandstats (server-wide, so nothing else
 * may use this server meanwhile). `scriptCalls` counts EVALSHA/EVAL/FCALL, i.e. round trips that
 * run a Lua script; `total` also counts every command those scripts run inside Redis.
 */
export interface CommandCount {
  total: number;
  scriptCalls: number;
}

export async function countRedisCommands<T>(redis: Redis, work: () => Promise<T>): Promise<{ result: T; commands: CommandCount }> {
  const before = parse(await redis.info('commandstats'));
  const result = await work();
  const after = parse(await redis.info('commandstats'));
  const commands: CommandCount = { total: 0, scriptCalls: 0 };
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0);
    commands.total += delta;
    if (/^(evalsha|eval|evalsha_ro|eval_ro|fcall|fcall_ro)$/.test(name)) commands.scriptCalls += delta;
  }
  // The two INFO calls themselves.
  commands.total -= 1;
  return { result, commands };
}

function parse(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] as string, Number(match[2]));
  return calls;
}
