// Drizzle's own migrator, the judge of what handler-db-drizzle leaves:
//   node migrate.mjs DIALECT URL FOLDER
// applies FOLDER's pending migrations to the database at URL exactly as an
// application calling `migrate(db, { migrationsFolder })` would.
const [dialect, url, migrationsFolder] = process.argv.slice(2);

if (dialect === "postgresql") {
  const { default: pg } = await import("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    await client.end();
  }
} else if (dialect === "mysql") {
  const mysql = await import("mysql2/promise");
  const { drizzle } = await import("drizzle-orm/mysql2");
  const { migrate } = await import("drizzle-orm/mysql2/migrator");
  const connection = await mysql.createConnection(url);
  try {
    await migrate(drizzle(connection), { migrationsFolder });
  } finally {
    await connection.end();
  }
} else if (dialect === "sqlite") {
  const { createClient } = await import("@libsql/client");
  const { drizzle } = await import("drizzle-orm/libsql");
  const { migrate } = await import("drizzle-orm/libsql/migrator");
  const client = createClient({ url });
  try {
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    client.close();
  }
} else {
  throw new Error(`no migrator for dialect ${dialect}`);
}
