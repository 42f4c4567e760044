// Q1/Q2 in Polars (nodejs-polars), reading the CSV fresh; prints one JSON object per group.
// Lazy (scanCSV ... collect): Polars' best form here, faster and smaller than readCSV.
// usage: node worker-polars.js q1|q2 FILE
const pl = require('nodejs-polars');
const [query, file] = process.argv.slice(2);
const lf = pl.scanCSV(file, {
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
  out = lf.groupBy(['region', 'product']).agg(...aggs);
} else {
  const t = lf.withColumns(
    pl.col('ts').str.strptime(pl.Datetime('ms'), '%Y-%m-%dT%H:%M:%S%.fZ').cast(pl.Int64).alias('t'));
  // the newest time of the whole source, then the window: one query plan
  out = t.filter(pl.col('status').eq(pl.lit('ok'))
                   .and(pl.col('t').gtEq(pl.col('t').max().minus(pl.lit(86400e6)))))
         .groupBy(['region']).agg(...aggs);
}
const keys = query === 'q1' ? ['region', 'product'] : ['region'];
for (const r of out.collectSync().toRecords())
  console.log(JSON.stringify({ key: keys.map((k) => r[k]), count: Number(r.count), sum: r.sum,
    avg: r.avg, min: r.min, max: r.max, p95: r.p95, distinct: Number(r.distinct) }));
