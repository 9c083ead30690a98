// TypeORM's module and query runner for the engine's sandbox: the schema
// classes of "typeorm", and a query runner whose `query` goes to the host
// and whose schema builder writes the SQL TypeORM's query runners write.
"use strict";
(function (sandbox, dialect, schemaBuilder) {
    const { refuse, guarded, query, sha1 } = sandbox;

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
            { query, ...builder },
            (key) =>
                `queryRunner.${key} (handler-db-typeorm supports queryRunner.query and ` +
                `${Object.keys(builder).join(", ")}; write the change as SQL, as typeorm ` +
                "migration:generate does)",
        );
    }

    return { module: typeorm, arguments: () => [queryRunner()] };
});
