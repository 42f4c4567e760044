// Q1/Q2/Q3 in Polars (nodejs-polars), reading the CSV fresh; writes one JSON object per
// group to stdout with Polars' own NDJSON writer (the result written out, by every form:
// at Q3's million groups a row-by-row JavaScript writer cost more than the query).
// usage: node worker-polars.js FORM q1|q2|q3 FILE
// FORM (bench/worker --forms times them all; bench/worker uses the fastest per query):
//   eager         readCSV with dtypes, then DataFrame groupBy
//   lazy          scanCSV with dtypes, collectSync()
//   lazy-schema   scanCSV with an explicit schema (every column typed), await collect()
//   lazy-schema-sync   the same, collectSync()
//   streaming     scanCSV with the schema, collectSync({ engine: 'streaming' })
// q3 is Q1 plus a 5-minute time bucket (issue 13): floor(epoch seconds / 300) * 300.
const pl = require('nodejs-polars');
const [form, query, file] = process.argv.slice(2);
const types = { ts: pl.Utf8, region: pl.Utf8, product: pl.Utf8, user_id: pl.Int64,
                amount: pl.Float64, latency_ms: pl.Float64, status: pl.Utf8 };
const aggs = [
  pl.len().alias('count'),
  pl.col('amount').sum().alias('sum'),
  pl.col('amount').mean().alias('avg'),
  pl.col('amount').min().alias('min'),
  pl.col('amount').max().alias('max'),
  pl.col('latency_ms').quantile(0.95, 'linear').alias('p95'),
  pl.col('user_id').nUnique().alias('distinct'),
];
// epoch microseconds of ts: this nodejs-polars' strptime accepts only Datetime('ms') and
// ignores the unit, parsing with a format into microseconds
const micros = () => pl.col('ts').str.strptime(pl.Datetime('ms'), '%Y-%m-%dT%H:%M:%S%.fZ').cast(pl.Int64);
const keys = { q1: ['region', 'product'], q2: ['region'], q3: ['region', 'product', 'bucket'] }[query];
if (!keys) throw new Error(`unknown query ${query}`);

// f works on a DataFrame or a LazyDataFrame alike
function plan(f) {
  if (query === 'q1')
    return f.groupBy(keys).agg(...aggs);
  if (query === 'q3')
    return f.withColumns(micros().alias('t'))
            .withColumns(pl.col('t').minus(pl.col('t').modulo(pl.lit(300e6))).div(pl.lit(1e6))
              .cast(pl.Int64).alias('bucket'))
            .groupBy(keys).agg(...aggs);
  // the newest time of the whole source, then the window: one query plan
  const t = f.withColumns(micros().alias('t'));
  return t.filter(pl.col('status').eq(pl.lit('ok'))
                    .and(pl.col('t').gtEq(pl.col('t').max().minus(pl.lit(86400e6)))))
          .groupBy(keys).agg(...aggs);
}

async function run() {
  switch (form) {
  case 'eager': return plan(pl.readCSV(file, { dtypes: types }));
  case 'lazy': return plan(pl.scanCSV(file, { dtypes: types })).collectSync();
  case 'lazy-schema': return plan(pl.scanCSV(file, { schema: types })).collect();
  case 'lazy-schema-sync': return plan(pl.scanCSV(file, { schema: types })).collectSync();
  case 'streaming':
    return plan(pl.scanCSV(file, { schema: types })).collectSync({ engine: 'streaming' });
  default: throw new Error(`unknown form ${form}`);
  }
}

run().then((df) => df.writeJSON('/dev/stdout', { format: 'lines' }));
