import type { Cluster, Redis } from 'ioredis';
import type { KeyMemorySample } from '../../ports/cache-observation.js';
import { isCluster } from './redis-connection.js';

/** Options of `RedisKeyMemorySampler`. */
export interface RedisKeyMemorySamplerOptions {
  /** Keys one SCAN call asks for (Redis's COUNT hint), per node. @default 1000 */
  scanCount?: number;
  /** SCAN calls per node at most, per sample. @default 3 */
  maxScans?: number;
  /** Keys under the prefix whose `MEMORY USAGE` is asked, per node at most. @default 50 */
  measured?: number;
}

/**
 * Estimates how much memory the keys under a prefix take, in a few commands per node whatever the
 * database's size: it scans from the start of the keyspace (at most `maxScans` SCAN calls of
 * `scanCount`: Redis's hash table orders keys by hash, so what comes first is a fair sample),
 * counts the share of keys under the prefix, asks `MEMORY USAGE` of up to `measured` of them, and
 * scales both by `DBSIZE`. Exact when the scan saw the whole database. On a Cluster, per master,
 * summed. Never for the request path: the gauge that reads it samples at most every 30 s.
 */
export class RedisKeyMemorySampler {
  private readonly scanCount: number;
  private readonly maxScans: number;
  private readonly measured: number;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    options: RedisKeyMemorySamplerOptions = {},
  ) {
    this.scanCount = options.scanCount ?? 1000;
    this.maxScans = options.maxScans ?? 3;
    this.measured = options.measured ?? 50;
  }

  async sample(): Promise<KeyMemorySample> {
    const nodes = isCluster(this.redis) ? this.redis.nodes('master') : [this.redis];
    const samples = await Promise.all(nodes.map((node) => this.sampleNode(node)));
    return samples.reduce((sum, s) => ({ keys: sum.keys + s.keys, bytes: sum.bytes + s.bytes }), { keys: 0, bytes: 0 });
  }

  private async sampleNode(node: Redis): Promise<KeyMemorySample> {
    const size = await node.dbsize();
    let cursor = '0';
    let scanned = 0;
    const ours: string[] = [];
    for (let i = 0; i < this.maxScans; i++) {
      const [next, keys] = await node.scan(cursor, 'COUNT', this.scanCount);
      scanned += keys.length;
      for (const key of keys) if (key.startsWith(this.prefix)) ours.push(key);
      cursor = next;
      if (cursor === '0') break;
    }
    if (ours.length === 0) return { keys: 0, bytes: 0 };
    // The scan saw every key: count exactly. Otherwise scale the share seen by the database's size.
    const keys = cursor === '0' ? ours.length : Math.round((ours.length / Math.max(scanned, 1)) * size);
    const measured = ours.slice(0, this.measured);
    const usages = await Promise.all(measured.map((key) => node.memory('USAGE', key)));
    const known = usages.filter((bytes): bytes is number => typeof bytes === 'number');
    if (known.length === 0) return { keys, bytes: 0 };
    const average = known.reduce((sum, bytes) => sum + bytes, 0) / known.length;
    return { keys, bytes: Math.round(average * keys) };
  }
}
