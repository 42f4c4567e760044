// Q1/Q2/Q3 in DuckDB (@duckdb/node-api), reading the CSV fresh; writes one JSON object per
// group to stdout with DuckDB's own writer (COPY ... TO (FORMAT json): the result written
// out without a round trip through JavaScript objects).
// usage: node worker-duckdb.js FORM q1|q2|q3 FILE
// FORM (bench/worker --forms times them all; bench/worker uses the fastest per query):
//   explicit      read_csv with every column's type given (no sniffing)
//   auto          read_csv_auto: DuckDB sniffs the types itself
//   explicit-t1   explicit, SET threads = 1
//   explicit-noorder   explicit, SET preserve_insertion_order = false
// threads default to the number of cores. q3 is Q1 plus a 5-minute time bucket (issue 13):
// time_bucket(INTERVAL '5 minutes', ts) in UTC, as epoch seconds.
const { DuckDBInstance } = require('@duckdb/node-api');
const [form, query, file] = process.argv.slice(2);
const explicit = `read_csv('${file}', header = true, auto_detect = false, delim = ',', quote = '"',
  columns = {'ts': 'TIMESTAMPTZ', 'region': 'VARCHAR', 'product': 'VARCHAR', 'user_id': 'BIGINT',
  'amount': 'DOUBLE', 'latency_ms': 'DOUBLE', 'status': 'VARCHAR'})`;
const src = form === 'auto' ? `read_csv_auto('${file}')` : explicit;
const settings = { explicit: [], auto: [], 'explicit-t1': ['SET threads = 1'],
                   'explicit-noorder': ['SET preserve_insertion_order = false'] }[form];
if (!settings) throw new Error(`unknown form ${form}`);
const aggs = `count(*)::BIGINT AS count, sum(amount) AS sum, avg(amount) AS avg, min(amount) AS min,
  max(amount) AS max, quantile_cont(latency_ms, 0.95) AS p95, count(DISTINCT user_id)::BIGINT AS distinct_`;
const sql = {
  q1: `SELECT region, product, ${aggs} FROM ${src} GROUP BY region, product`,
  q2: `WITH t AS (SELECT * FROM ${src}) SELECT region, ${aggs} FROM t
       WHERE status = 'ok' AND ts >= (SELECT max(ts) FROM t) - INTERVAL 24 HOUR GROUP BY region`,
  q3: `SELECT region, product, epoch(time_bucket(INTERVAL '5 minutes', ts))::BIGINT AS bucket, ${aggs}
       FROM ${src} GROUP BY ALL`,
}[query];
if (!sql) throw new Error(`unknown query ${query}`);
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run("SET TimeZone = 'UTC'");
  for (const s of settings)
    await con.run(s);
  await con.run(`COPY (${sql}) TO '/dev/stdout' (FORMAT json)`);
})();
