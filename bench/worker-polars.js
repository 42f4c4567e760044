// Q1/Q2 in Polars (nodejs-polars), reading the CSV fresh; prints one JSON object per group.
// usage: node worker-polars.js q1|q2 FILE
const pl = require('nodejs-polars');
const [query, file] = process.argv.slice(2);
const df = pl.readCSV(file, {
  dtypes: { ts: pl.Utf8, region: pl.Utf8, product: pl.Utf8, user_id: pl.Int64,
            amount: pl.Float64, latency_ms: pl.Float64, status: pl.Utf8 },
});
const aggs = [
  pl.len().alias('count'),
  pl.col('amount').sum().alias('sum'),
  pl.col('amount').mean().alias('avg'),
  pl.col('amount').min().alias('min'),
  pl.col('amount').max().alias('max'),
  pl.col('latency_ms').quantile(0.95, 'linear').alias('p95'),
  pl.col('user_id').nUnique().alias('distinct'),
];
let out;
if (query === 'q1') {
  out = df.groupBy(['region', 'product']).agg(...aggs);
} else {
  const t = df.withColumns(
    pl.col('ts').str.strptime(pl.Datetime('ms'), '%Y-%m-%dT%H:%M:%S%.fZ').cast(pl.Int64).alias('t'));
  const newest = t.getColumn('t').max();
  out = t.filter(pl.col('status').eq(pl.lit('ok')).and(pl.col('t').gtEq(pl.lit(newest - 86400e6))))
         .groupBy(['region']).agg(...aggs);
}
const keys = query === 'q1' ? ['region', 'product'] : ['region'];
for (const r of out.toRecords())
  console.log(JSON.stringify({ key: keys.map((k) => r[k]), count: Number(r.count), sum: r.sum,
    avg: r.avg, min: r.min, max: r.max, p95: r.p95, distinct: Number(r.distinct) }));
