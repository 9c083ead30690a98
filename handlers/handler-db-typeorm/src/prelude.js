// TypeORM's module and query runner for the engine's sandbox: the schema
// classes of "typeorm", and a query runner whose `query` goes to the host
// and whose schema builder writes the SQL TypeORM's query runners write.
"use strict";
(function (sandbox, dialect, schemaBuilder) {
    const { refuse, guarded, query, execute, reads, sha1 } = sandbox;
    const verb = (sql) => (/^\s*(\w+)/.exec(sql) || ["", ""])[1].toUpperCase();

    // `queryRunner.query`, answered in the shape TypeORM's driver gives:
    // rows; on PostgreSQL `[rows, count]` for UPDATE and DELETE; for a
    // statement without rows on MySQL its result packet, on SQLite the id
    // the statement inserted.
    async function runnerQuery(sql, parameters, useStructuredResult) {
        if (useStructuredResult) {
            refuse("queryRunner.query's useStructuredResult");
        }
        sql = String(sql);
        const changes = dialect === "postgresql" && ["UPDATE", "DELETE"].includes(verb(sql));
        if (reads(sql)) {
            const rows = await query(sql, parameters);
            return changes ? [rows, rows.length] : rows;
        }
        const { affected, insertId } = await execute(sql, parameters);
        if (dialect === "postgresql") {
            return changes ? [[], affected] : [];
        }
        if (dialect === "mysql") {
            return {
                fieldCount: 0,
                affectedRows: affected,
                insertId,
                info: "",
                serverStatus: 2,
                warningStatus: 0,
                changedRows: 0,
            };
        }
        return insertId;
    }

    class Options {
        constructor(options) {
            Object.assign(this, options);
        }
    }
    class Table extends Options {}
    class TableColumn extends Options {}
    class TableIndex extends Options {}
    class TableForeignKey extends Options {}
    class TableUnique extends Options {}
    class TableCheck extends Options {}
    class TableExclusion extends Options {}

    const typeorm = guarded(
        {
            __esModule: true,
            // Types only, which compiled TypeScript may still destructure.
            MigrationInterface: undefined,
            QueryRunner: undefined,
            Table,
            TableColumn,
            TableIndex,
            TableForeignKey,
            TableUnique,
            TableCheck,
            TableExclusion,
        },
        (key) => `typeorm's ${key}`,
    );

    const builder = schemaBuilder(dialect, query, sha1, refuse);

    function queryRunner() {
        return guarded(
            { query: runnerQuery, ...builder },
            (key) =>
                `queryRunner.${key} (handler-db-typeorm supports queryRunner.query and ` +
                `${Object.keys(builder).join(", ")}; write the change as SQL, as typeorm ` +
                "migration:generate does)",
        );
    }

    // Each call gets a query runner of its own, as TypeORM gives each run.
    return { module: typeorm, call: (migration, method) => migration[method](queryRunner()) };
});
