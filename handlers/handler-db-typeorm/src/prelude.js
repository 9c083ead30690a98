// What a TypeORM migration may reach inside faber-db's sandbox: the schema
// classes of the "typeorm" module and a query runner whose `query` goes to
// the host's SQL capability. Nothing of Node.js: a migration that reaches
// for a module, a file, the network or the environment is refused by name.
"use strict";
(function (global, nativeQuery, sha1, log, schemaBuilder, dialect) {
    const sandbox =
        "a migration run by faber-db runs in a sandbox without Node.js modules, files, " +
        "network or environment; it may use queryRunner.query and the classes of \"typeorm\"";

    function refuse(what) {
        throw new Error(`${what} is not available: ${sandbox}`);
    }

    // Property reads past `known` are refused by name, so a missing
    // stand-in fails where it is used, not later as `undefined`.
    function guarded(known, describe) {
        return new Proxy(known, {
            get(target, key, receiver) {
                if (typeof key === "symbol" || key in target || key === "then") {
                    return Reflect.get(target, key, receiver);
                }
                return refuse(describe(key));
            },
        });
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

    function require(name) {
        if (name === "typeorm") {
            return typeorm;
        }
        return refuse(`require(${JSON.stringify(String(name))})`);
    }

    // A value as a driver would send it: a Date as its ISO text, an object
    // as JSON (TypeORM's json columns).
    function parameter(value) {
        if (value instanceof Date) {
            return value.toISOString();
        }
        if (value !== null && typeof value === "object") {
            return JSON.stringify(value);
        }
        return value;
    }

    function query(sql, parameters) {
        const values = Array.isArray(parameters) ? parameters.map(parameter) : [];
        return nativeQuery(String(sql), values);
    }

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

    Object.defineProperty(global, "process", {
        value: guarded({}, (key) => `process.${key}`),
    });
    for (const name of ["Buffer", "setTimeout", "setInterval", "setImmediate", "fetch"]) {
        Object.defineProperty(global, name, { get: () => refuse(name) });
    }
    const write = (...values) => log(values.map(String).join(" "));
    Object.defineProperty(global, "console", {
        value: { log: write, info: write, warn: write, error: write, debug: write },
    });

    return { require, queryRunner };
});
