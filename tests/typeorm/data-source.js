// TypeORM's own CLI, the judge of what handler-db-typeorm leaves:
//   node node_modules/typeorm/cli.js migration:run -d data-source.js
// TYPEORM_TYPE (postgres, mysql, better-sqlite3) and TYPEORM_URL (a URL, or
// the SQLite file) say where; the entities are what migration:generate
// diffs the database against.
const { DataSource, EntitySchema } = require("typeorm");

const User = new EntitySchema({
  name: "User",
  tableName: "users",
  columns: {
    id: { type: Number, primary: true, generated: true },
    name: { type: String, length: 100 },
    active: { type: Boolean, default: true },
  },
  indices: [{ name: "IDX_users_name", columns: ["name"] }],
});

const type = process.env.TYPEORM_TYPE;
const where = process.env.TYPEORM_URL;

module.exports = new DataSource({
  type,
  ...(type === "better-sqlite3" ? { database: where } : { url: where }),
  entities: [User],
  migrations: [__dirname + "/migrations/*.js"],
});
