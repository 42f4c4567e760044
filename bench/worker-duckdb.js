// Q1/Q2 in DuckDB (@duckdb/node-api), reading the CSV fresh; prints one JSON object per group.
// usage: node worker-duckdb.js q1|q2 FILE
const { DuckDBInstance } = require('@duckdb/node-api');
const [query, file] = process.argv.slice(2);
const src = `read_csv('${file}', header = true, columns = {'ts': 'TIMESTAMPTZ', 'region': 'VARCHAR',
  'product': 'VARCHAR', 'user_id': 'BIGINT', 'amount': 'DOUBLE', 'latency_ms': 'DOUBLE',
  'status': 'VARCHAR'})`;
const aggs = `count(*)::BIGINT AS count, sum(amount) AS sum, avg(amount) AS avg, min(amount) AS min,
  max(amount) AS max, quantile_cont(latency_ms, 0.95) AS p95, count(DISTINCT user_id)::BIGINT AS distinct_`;
const sql = query === 'q1'
  ? `SELECT region, product, ${aggs} FROM ${src} GROUP BY region, product`
  : `WITH t AS (SELECT * FROM ${src}) SELECT region, ${aggs} FROM t
     WHERE status = 'ok' AND ts >= (SELECT max(ts) FROM t) - INTERVAL 24 HOUR GROUP BY region`;
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const res = await con.runAndReadAll(sql);
  const keys = query === 'q1' ? ['region', 'product'] : ['region'];
  for (const r of res.getRowObjectsJson())
    console.log(JSON.stringify({ key: keys.map((k) => r[k]), count: Number(r.count), sum: r.sum,
      avg: r.avg, min: r.min, max: r.max, p95: r.p95, distinct: Number(r.distinct_) }));
})();
