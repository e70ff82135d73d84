import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBaselineServer, type BaselineServer } from '../loadtest/bench/baseline.js';
import { CpuMeter, parsePidList, withDescendants } from '../loadtest/bench/cpu.js';
import { loopbackUrl } from '../loadtest/bench/loopback.js';
import { countBetween, quantileBetween } from '../loadtest/bench/server-latency.js';
import { percentile, Tally } from '../loadtest/bench/stats.js';
import { runUserLoop } from '../loadtest/bench/user-loop.js';
import { requestSpec, tokenFor } from '../loadtest/bench/workload.js';

describe('the local benchmark driver', () => {
  it('refuses targets off this machine', () => {
    assert.equal(loopbackUrl('http://127.0.0.1:8000').port, '8000');
    assert.equal(loopbackUrl('http://localhost:8000').hostname, 'localhost');
    assert.equal(loopbackUrl('http://[::1]:8000').hostname, '[::1]');
    for (const target of [
      'http://10.0.0.5:8000',
      'http://192.168.1.2',
      'http://example.com',
      'http://128.0.0.1',
    ]) {
      assert.throws(() => loopbackUrl(target), /refusing to send load/, target);
    }
  });

  it('computes nearest-rank percentiles', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 0.5), 50);
    assert.equal(percentile(sorted, 0.95), 95);
    assert.equal(percentile(sorted, 0.99), 99);
    assert.equal(percentile(new Float64Array(0), 0.5), 0);
  });

  it('reads the quantiles of the requests answered between two scrapes of a Prometheus histogram', () => {
    // Cumulative buckets (seconds): 100 requests before; 100 more after, 50 of them at most 10 ms,
    // 40 between 10 and 50 ms, 10 between 50 and 100 ms.
    const before = new Map([
      [0.01, 80],
      [0.05, 100],
      [0.1, 100],
      [Infinity, 100],
    ]);
    const after = new Map([
      [0.01, 130],
      [0.05, 190],
      [0.1, 200],
      [Infinity, 200],
    ]);
    assert.equal(countBetween(before, after), 100);
    assert.equal(quantileBetween(before, after, 0.5), 10);
    assert.ok(
      Math.abs(quantileBetween(before, after, 0.7) - 30) < 1e-9,
      'halfway through the 10–50 ms bucket',
    );
    assert.ok(Math.abs(quantileBetween(before, after, 0.95) - 75) < 1e-9);
    assert.equal(quantileBetween(after, after, 0.95), 0, 'no requests in between');
  });

  it('counts errors and non-2xx answers apart from successes', () => {
    const tally = new Tally();
    tally.record(200, 1);
    tally.record(429, 2);
    tally.record(503, 3);
    tally.recordError();
    const summary = tally.summary();
    assert.equal(summary.requests, 4);
    assert.equal(summary.errors, 1);
    assert.deepEqual(summary.non2xx, { '429': 1, '503': 1 });
    assert.equal(summary.latency.count, 3);
  });

  it("sends k6's token for each virtual user", () => {
    assert.equal(tokenFor(0, { tokenCount: 100 }), 'test-load-token-1');
    assert.equal(tokenFor(100, { tokenCount: 100 }), 'test-load-token-1');
    assert.equal(tokenFor(7, { token: 'fixed', tokenCount: 100 }), 'fixed');
  });

  it('reads pid lists with and without groups, and rejects bad ones', () => {
    assert.deepEqual(parsePidList('gateway:12,34'), [
      { group: 'gateway', pid: 12 },
      { group: 'server', pid: 34 },
    ]);
    assert.throws(() => parsePidList('gateway:abc'), /bad pid/);
  });

  describe('against the bare Fastify baseline', () => {
    let baseline: BaselineServer;
    before(async () => {
      baseline = await startBaselineServer();
    });
    after(async () => {
      await baseline.stop();
    });

    it('runs every user through the whole iteration and stops by itself', async () => {
      const result = await runUserLoop({
        target: baseline.url,
        users: 5,
        durationMs: 300,
        spreadMs: 50,
        pauseMs: 100,
        requests: ['health', 'documents', 'query'].map((name) => requestSpec(name, 'hot')),
        token: (user) => tokenFor(user, { tokenCount: 100 }),
        requestTimeoutMs: 5_000,
      });
      assert.ok(result.iterations >= 5, `iterations: ${result.iterations}`);
      for (const name of ['health', 'documents', 'query']) {
        const summary = result.byRequest.get(name)?.summary();
        assert.equal(summary?.requests, result.iterations, name);
        assert.equal(summary?.errors, 0, name);
        assert.equal(summary?.non2xxTotal, 0, name);
      }
      assert.equal(result.cache.hits, result.iterations);
    });

    it("measures the server process's CPU time", () => {
      const meter = new CpuMeter(withDescendants([{ group: 'baseline', pid: baseline.pid }]));
      meter.start();
      const report = meter.stop();
      assert.deepEqual(
        report.groups.map((group) => [group.group, group.pids]),
        [['baseline', [baseline.pid]]],
      );
      assert.ok(report.serverSeconds >= 0 && report.wallSeconds >= 0);
    });
  });
});
