// What every migration run by faber-db finds in place of Node.js: `require`
// of the tool's own module only, `console` writing to the handler's log,
// and for `process`, `Buffer`, timers and `fetch` a refusal by name. A
// migration's SQL goes through `query` to the host.
"use strict";
(function (global, nativeQuery, nativeExecute, sha1, log, allowed) {
    const sandbox =
        "a migration run by faber-db runs in a sandbox without Node.js modules, files, " +
        `network or environment; it may use ${allowed}`;

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

    // A value as a driver would send it: a Date as its ISO text, an object
    // as JSON.
    function parameter(value) {
        if (value instanceof Date) {
            return value.toISOString();
        }
        if (value !== null && typeof value === "object") {
            return JSON.stringify(value);
        }
        return value;
    }

    const values = (parameters) => (Array.isArray(parameters) ? parameters.map(parameter) : []);

    // The rows a statement returns.
    function query(sql, parameters) {
        return nativeQuery(String(sql), values(parameters));
    }

    // What a statement that returns no rows changed: `{ affected,
    // insertId }` (the id only after an INSERT on MySQL or SQLite).
    function execute(sql, parameters) {
        return nativeExecute(String(sql), values(parameters));
    }

    // Whether a statement answers with rows, as the drivers tell them
    // apart: what a tool's `query` hands to `query` rather than `execute`.
    const reads = (sql) =>
        /^\s*(SELECT|WITH|PRAGMA|SHOW|VALUES|EXPLAIN|DESCRIBE|TABLE)\b/i.test(sql) ||
        /\bRETURNING\b/i.test(sql);

    // `require` that knows `modules` only.
    function requirer(modules) {
        return function require(name) {
            if (Object.prototype.hasOwnProperty.call(modules, name)) {
                return modules[name];
            }
            return refuse(`require(${JSON.stringify(String(name))})`);
        };
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

    return { refuse, guarded, query, execute, reads, sha1, requirer };
});
