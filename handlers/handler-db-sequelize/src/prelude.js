// sequelize-cli's two arguments for the engine's sandbox: `queryInterface`,
// whose calls send the SQL Sequelize's query interface sends (written by
// `sql_text.js`), with `queryInterface.sequelize.query` and `.transaction`;
// and `Sequelize`, the `sequelize` module (its data types, `fn`, `col`,
// `literal`, `Op` and `QueryTypes`).
"use strict";
(function (sandbox, provider, dataTypesOf, sqlTextOf) {
    const { refuse, guarded, query, execute, reads } = sandbox;
    const dialect = { postgresql: "postgres", mysql: "mysql", sqlite: "sqlite" }[provider];
    const postgres = dialect === "postgres";
    const mysql = dialect === "mysql";
    const sqlite = dialect === "sqlite";
    const dataTypes = dataTypesOf(dialect);
    const sql = sqlTextOf(dialect, dataTypes, refuse);
    const { Method, quote, escape } = sql;

    const QueryTypes = {
        SELECT: "SELECT", INSERT: "INSERT", UPDATE: "UPDATE", BULKUPDATE: "BULKUPDATE",
        BULKDELETE: "BULKDELETE", DELETE: "DELETE", UPSERT: "UPSERT", VERSION: "VERSION",
        SHOWTABLES: "SHOWTABLES", SHOWINDEXES: "SHOWINDEXES", DESCRIBE: "DESCRIBE", RAW: "RAW",
        FOREIGNKEYS: "FOREIGNKEYS", SHOWCONSTRAINTS: "SHOWCONSTRAINTS",
    };
    const Op = {};
    for (const name of ["eq", "ne", "gt", "gte", "lt", "lte", "like", "notLike", "in", "notIn", "is", "not",
        "and", "or", "between", "notBetween", "iLike", "startsWith", "endsWith", "substring", "regexp"]) {
        Op[name] = Symbol.for(name);
    }

    // `replacements` written into the text as Sequelize escapes them (`?`
    // for an array, `:name` for an object), outside quotes and comments;
    // `bind` kept as parameters (`$1`, which MySQL and SQLite take as `?`).
    function prepared(text, options) {
        const replacements = options.replacements;
        const bind = options.bind;
        if (replacements === undefined && bind === undefined) {
            return { text, parameters: [] };
        }
        let out = "";
        let position = 0;
        const parameters = [];
        for (let i = 0; i < text.length; i++) {
            const c = text[i];
            if (c === "'" || c === '"' || c === "`") {
                const end = text.indexOf(c, i + 1);
                const stop = end === -1 ? text.length : end;
                out += text.slice(i, stop + 1);
                i = stop;
            } else if (c === "-" && text[i + 1] === "-") {
                const end = text.indexOf("\n", i);
                const stop = end === -1 ? text.length : end;
                out += text.slice(i, stop);
                i = stop - 1;
            } else if (c === "?" && Array.isArray(replacements)) {
                if (position >= replacements.length) {
                    throw new Error(`Named replacement ? has no value (replacements have ${replacements.length})`);
                }
                out += escape(replacements[position++]);
            } else if (c === ":" && replacements && !Array.isArray(replacements) && /[A-Za-z_]/.test(text[i + 1] || "") && text[i - 1] !== ":") {
                const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))[0];
                if (!(name in replacements)) {
                    throw new Error(`Named replacement ":${name}" has no entry in the replacement map.`);
                }
                out += escape(replacements[name]);
                i += name.length;
            } else if (c === "$" && bind !== undefined && /[0-9A-Za-z_]/.test(text[i + 1] || "")) {
                const name = /^[0-9A-Za-z_]+/.exec(text.slice(i + 1))[0];
                const value = Array.isArray(bind) ? bind[Number(name) - 1] : bind[name];
                if (value === undefined) {
                    throw new Error(`Named bind parameter "$${name}" has no value in the given object.`);
                }
                parameters.push(value instanceof Date ? sql.escape(value).slice(1, -1) : value);
                out += postgres ? `$${parameters.length}` : "?";
                i += name.length;
            } else {
                out += c;
            }
        }
        return { text: out, parameters };
    }

    const verb = (text) => (/^\s*(\w+)/.exec(text) || ["", ""])[1].toUpperCase();

    // `sequelize.query`, answered in the shapes Sequelize gives: a
    // `SELECT` type's rows, an `INSERT`'s `[id, count]`, an `UPDATE`'s
    // `[_, count]`, a bulk call's count, otherwise `[results, metadata]`.
    async function sequelizeQuery(statement, options = {}) {
        const given = statement instanceof Method ? statement.sql : String(statement);
        const { text, parameters } = prepared(given, options);
        const type = options.type;
        if (reads(text)) {
            const rows = await query(text, parameters);
            if (type === QueryTypes.SELECT) {
                return options.plain ? (rows[0] ?? null) : rows;
            }
            if (type === QueryTypes.INSERT || type === QueryTypes.UPDATE) {
                return [rows, rows.length];
            }
            const metadata = postgres ? { command: verb(text), rowCount: rows.length, rows } : mysql ? rows : {};
            return [rows, metadata];
        }
        const { affected, insertId } = await execute(text, parameters);
        switch (type) {
            case QueryTypes.INSERT:
                return [postgres ? [] : insertId, affected];
            case QueryTypes.UPDATE:
                return [postgres ? [] : null, affected];
            case QueryTypes.BULKUPDATE:
            case QueryTypes.BULKDELETE:
            case QueryTypes.DELETE:
                return affected;
            default:
                break;
        }
        if (postgres) {
            return [[], { command: verb(text), rowCount: affected, rows: [] }];
        }
        if (mysql) {
            const packet = { fieldCount: 0, affectedRows: affected, insertId, info: "", serverStatus: 2, warningStatus: 0, changedRows: 0 };
            return [packet, packet];
        }
        return verb(text) === "INSERT" ? [null, { lastID: insertId, changes: affected }] : [[], {}];
    }

    const run = (statements) =>
        statements.reduce((done, statement) => done.then(() => sequelizeQuery(statement)), Promise.resolve());

    // `sequelize.transaction`: on the one session the migration has,
    // managed (a callback, committed when it resolves) or not (`commit`
    // and `rollback` called by the migration).
    let open = false;
    const begin = sqlite ? "BEGIN DEFERRED TRANSACTION;" : "START TRANSACTION;";
    async function transaction(first, second) {
        const callback = typeof first === "function" ? first : second;
        if (open) {
            refuse("a transaction inside a transaction (Sequelize's nested transactions and savepoints)");
        }
        open = true;
        await sequelizeQuery(begin);
        let finished = false;
        const finish = async (statement) => {
            if (finished) throw new Error(`Transaction cannot be committed or rolled back twice`);
            finished = true;
            open = false;
            await sequelizeQuery(statement);
        };
        const handle = guarded(
            { commit: () => finish("COMMIT;"), rollback: () => finish("ROLLBACK;"), afterCommit: () => refuse("transaction.afterCommit") },
            (key) => `transaction.${key}`,
        );
        if (!callback) {
            return handle;
        }
        try {
            const result = await callback(handle);
            if (!finished) await finish("COMMIT;");
            return result;
        } catch (error) {
            if (!finished) await finish("ROLLBACK;");
            throw error;
        }
    }

    const noDescription = (table) =>
        new Error(
            `No description found for "${sql.tableName(table)}" table. Check the table name and schema; ` +
            "remember, they _are_ case sensitive.",
        );

    // `describeTable` on SQLite, as Sequelize reads it back: each column's
    // type, nullability, default (its quotes dropped, a boolean's as one)
    // and key, `unique` from the indexes it is in, and its reference (its
    // actions are not read, so a rebuilt table loses them, as under
    // Sequelize).
    async function sqliteDescribe(table) {
        const quoted = sql.quoteTable(table);
        const columns = await query(`PRAGMA TABLE_INFO(${quoted});`, []);
        if (columns.length === 0) {
            throw noDescription(table);
        }
        const fields = {};
        for (const column of columns) {
            let defaultValue = column.dflt_value === null ? undefined : column.dflt_value === "NULL" ? null : column.dflt_value;
            if (column.type === "TINYINT(1)") {
                defaultValue = { 0: false, 1: true }[defaultValue];
            }
            if (typeof defaultValue === "string") {
                defaultValue = defaultValue.replace(/'/g, "");
            }
            fields[column.name] = {
                type: column.type, allowNull: column.notnull === 0, defaultValue, primaryKey: column.pk !== 0, unique: false,
            };
        }
        const indexes = await query(`PRAGMA INDEX_LIST(${quoted})`, []);
        for (const index of indexes.reverse()) {
            for (const column of await query(`PRAGMA INDEX_INFO(\`${index.name}\`)`, [])) {
                fields[column.name].unique = !!index.unique;
            }
        }
        for (const key of await query(`PRAGMA foreign_key_list(${quoted})`, [])) {
            fields[key.from].references = { model: key.table, key: key.to };
        }
        return fields;
    }

    // SQLite's table rebuilds, as Sequelize's query interface does them.
    const sqliteAlter = {
        async removeColumn(table, key) {
            const fields = await sqliteDescribe(table);
            delete fields[key];
            return run(sql.sqliteRebuild(table, fields));
        },
        async changeColumn(table, key, attribute) {
            const fields = await sqliteDescribe(table);
            Object.assign(fields[key], sql.normalize(attribute));
            return run(sql.sqliteRebuild(table, fields));
        },
        async renameColumn(table, before, after) {
            const fields = await sqliteDescribe(table);
            if (!fields[before]) {
                throw new Error(`Table ${sql.tableName(table)} doesn't have the column ${before}`);
            }
            fields[after] = { ...fields[before] };
            delete fields[before];
            return run(sql.sqliteRebuild(table, fields, [before, after]));
        },
        async addConstraint(table, options) {
            const snippet = sql.constraintSnippet(table, options);
            const [created] = await sequelizeQuery(
                `SELECT sql FROM sqlite_master WHERE tbl_name='${sql.tableName(table)}';`,
                { type: QueryTypes.SELECT },
            );
            if (!created) {
                throw new Error(`No description found for "${sql.tableName(table)}" table.`);
            }
            const text = created.sql;
            const end = text.length - 1;
            const withConstraint = `${text.substr(0, end)}, ${snippet})${text.substr(end + 1)};`;
            const fields = await sqliteDescribe(table);
            return run(sql.sqliteAlterConstraint(table, fields, withConstraint));
        },
    };

    // `describeTable` on PostgreSQL and MySQL, as Sequelize shapes it:
    // each column's type (upper case), nullability, default (its quotes
    // and cast dropped), key, and on PostgreSQL an enum's values.
    async function describe(table) {
        if (sqlite) {
            return sqliteDescribe(table);
        }
        const name = sql.escape(sql.tableName(table));
        const rows = postgres
            ? await query(
                'SELECT pk.constraint_type AS "Constraint", c.column_name AS "Field", c.column_default AS "Default", ' +
                'c.is_nullable AS "Null", (CASE WHEN c.udt_name = \'hstore\' THEN c.udt_name ELSE c.data_type END) || ' +
                "(CASE WHEN c.character_maximum_length IS NOT NULL THEN '(' || c.character_maximum_length || ')' ELSE '' END) " +
                'AS "Type", (SELECT array_agg(e.enumlabel) FROM pg_catalog.pg_type t JOIN pg_catalog.pg_enum e ' +
                'ON t.oid = e.enumtypid WHERE t.typname = c.udt_name)::text AS "special", ' +
                "col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position) AS \"Comment\" " +
                "FROM information_schema.columns c LEFT JOIN (SELECT tc.table_schema, tc.table_name, cu.column_name, " +
                "tc.constraint_type FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage cu " +
                "ON tc.table_schema = cu.table_schema AND tc.table_name = cu.table_name AND tc.constraint_name = cu.constraint_name " +
                "AND tc.constraint_type = 'PRIMARY KEY') pk ON pk.table_schema = c.table_schema AND pk.table_name = c.table_name " +
                `AND pk.column_name = c.column_name WHERE c.table_name = ${name} AND c.table_schema = 'public' ` +
                "ORDER BY c.ordinal_position",
                [],
            )
            : await query(`SHOW FULL COLUMNS FROM ${sql.quoteTable(table)};`, []);
        if (rows.length === 0) {
            throw noDescription(table);
        }
        const fields = {};
        for (const row of rows) {
            if (mysql) {
                fields[row.Field] = {
                    type: /^enum/i.test(row.Type) ? row.Type.replace(/^enum/i, "ENUM") : String(row.Type).toUpperCase(),
                    allowNull: row.Null === "YES",
                    defaultValue: row.Default,
                    primaryKey: row.Key === "PRI",
                    autoIncrement: String(row.Extra || "").toLowerCase() === "auto_increment",
                    comment: row.Comment ? row.Comment : null,
                };
                continue;
            }
            let defaultValue = row.Default;
            const type = String(row.Type).toUpperCase();
            if (type === "BOOLEAN") {
                defaultValue = { false: false, true: true }[defaultValue] ?? null;
            }
            if (typeof defaultValue === "string") {
                defaultValue = defaultValue.replace(/'/g, "");
                const [value, cast] = defaultValue.split("::");
                if (cast !== undefined && cast.toLowerCase() !== "regclass)") {
                    defaultValue = value;
                }
            }
            fields[row.Field] = {
                type,
                allowNull: row.Null === "YES",
                defaultValue,
                comment: row.Comment,
                special: row.special ? String(row.special).replace(/^\{|\}$/g, "").split(",").filter(Boolean) : [],
                primaryKey: row.Constraint === "PRIMARY KEY",
            };
        }
        return fields;
    }

    // `renameColumn`'s definition on MySQL: the column as described.
    async function mysqlColumn(table, column) {
        const found = (await describe(table))[column];
        if (!found) {
            throw new Error(`Table ${sql.tableName(table)} doesn't have the column ${column}`);
        }
        const attribute = { type: found.type, allowNull: found.allowNull };
        if (!(found.defaultValue === null && !found.allowNull)) {
            attribute.defaultValue = found.defaultValue;
        }
        return attribute;
    }

    // MySQL's current database, where Sequelize names its configured one.
    const databaseSchema = "DATABASE()";

    const sequelize = guarded(
        {
            query: sequelizeQuery,
            transaction,
            getDialect: () => dialect,
            getQueryInterface: () => queryInterface,
            options: { dialect },
        },
        (key) => `queryInterface.sequelize.${key}`,
    );

    const queryInterface = guarded(
        {
            async createTable(table, attributes, options = {}) {
                const normal = {};
                for (const [key, attribute] of Object.entries(attributes)) {
                    normal[key] = sql.normalize(attribute);
                }
                if (options.uniqueKeys) refuse("createTable's uniqueKeys (add the index with queryInterface.addIndex)");
                if (postgres) {
                    for (const [key, attribute] of Object.entries(normal)) {
                        if (!(attribute.type instanceof dataTypes.types.ENUM)) continue;
                        const existing = await query(sql.pgEnumQuery(table, key), []);
                        if (existing.length === 0) {
                            await sequelizeQuery(sql.pgEnumCreate(table, key, attribute.type));
                        }
                    }
                }
                await run(sql.createTable(table, normal, options));
            },
            async dropTable(table, options = {}) {
                await sequelizeQuery(sql.dropTable(table, options));
            },
            async renameTable(before, after) {
                return sequelizeQuery(sql.renameTable(before, after));
            },
            async addColumn(table, key, attribute) {
                if (!table || !key || !attribute) {
                    throw new Error("addColumn takes at least 3 arguments (table, attribute name, attribute definition)");
                }
                return run(sql.addColumn(table, key, sql.normalize(attribute)));
            },
            removeColumn: sqlite ? sqliteAlter.removeColumn : async (table, key) => {
                if (mysql) {
                    const name = sql.escape(sql.tableName(table));
                    const column = sql.escape(key);
                    const [found] = await sequelizeQuery(
                        "SELECT CONSTRAINT_NAME as constraint_name FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE WHERE " +
                        `(REFERENCED_TABLE_NAME = ${name} AND REFERENCED_TABLE_SCHEMA = ${databaseSchema} AND REFERENCED_COLUMN_NAME = ${column}) ` +
                        `OR (TABLE_NAME = ${name} AND TABLE_SCHEMA = ${databaseSchema} AND COLUMN_NAME = ${column} AND REFERENCED_TABLE_NAME IS NOT NULL)`,
                    );
                    if (found.length && found[0].constraint_name !== "PRIMARY") {
                        for (const constraint of found) {
                            await sequelizeQuery(`ALTER TABLE ${sql.quoteTable(table)} DROP FOREIGN KEY ${quote(constraint.constraint_name)};`);
                        }
                    }
                }
                return sequelizeQuery(sql.removeColumn(table, key));
            },
            changeColumn: sqlite ? sqliteAlter.changeColumn : async (table, key, attribute) => {
                const normal = sql.normalize(attribute);
                return run(sql.changeColumn(table, key, normal));
            },
            renameColumn: sqlite ? sqliteAlter.renameColumn : async (table, before, after) => {
                if (postgres) {
                    return sequelizeQuery(`ALTER TABLE ${sql.quoteTable(table)} RENAME COLUMN ${quote(before)} TO ${quote(after)};`);
                }
                const attribute = await mysqlColumn(table, before);
                const definition = sql.definition(attribute, "renameColumn", table, after);
                return sequelizeQuery(`ALTER TABLE ${sql.quoteTable(table)} CHANGE \`${before}\` \`${after}\` ${definition};`);
            },
            async addIndex(table, fields, options) {
                if (!Array.isArray(fields)) {
                    options = fields;
                    fields = options.fields;
                }
                options = { ...(options || {}) };
                return sequelizeQuery(sql.addIndex(table, fields, options));
            },
            async removeIndex(table, nameOrFields, options = {}) {
                return sequelizeQuery(sql.removeIndex(table, nameOrFields, options));
            },
            async addConstraint(table, options) {
                if (!options.fields) throw new Error("Fields must be specified through options.fields");
                if (!options.type) throw new Error("Constraint type must be specified through options.type");
                if (sqlite) {
                    return sqliteAlter.addConstraint(table, options);
                }
                return sequelizeQuery(sql.addConstraint(table, options));
            },
            removeConstraint: sqlite
                ? () => refuse("queryInterface.removeConstraint on SQLite, where Sequelize rebuilds the table from its parsed text")
                : async (table, name) => {
                if (postgres) {
                    return sequelizeQuery(`ALTER TABLE ${sql.quoteTable(table)} DROP CONSTRAINT ${quote(name)}`);
                }
                const [constraint] = await sequelizeQuery(
                    "SELECT CONSTRAINT_NAME AS constraintName, CONSTRAINT_TYPE AS constraintType, TABLE_NAME AS tableName " +
                    `from INFORMATION_SCHEMA.TABLE_CONSTRAINTS WHERE table_name=${sql.escape(sql.tableName(table))} ` +
                    `AND constraint_name = ${sql.escape(name)} AND TABLE_SCHEMA = ${databaseSchema};`,
                    { type: QueryTypes.SELECT },
                );
                if (!constraint) {
                    throw new Error(`Constraint ${name} on table ${sql.tableName(table)} does not exist`);
                }
                if (constraint.constraintType === "FOREIGN KEY") {
                    return sequelizeQuery(`ALTER TABLE ${sql.quoteTable(table)} DROP FOREIGN KEY ${quote(name)};`);
                }
                return sequelizeQuery(sql.removeIndex(constraint.tableName, constraint.constraintName, {}));
            },
            async bulkInsert(table, records, options = {}) {
                if (options.updateOnDuplicate) refuse("bulkInsert's updateOnDuplicate");
                const [result] = await sequelizeQuery(sql.bulkInsert(table, records, options), { type: QueryTypes.INSERT });
                return result;
            },
            async bulkUpdate(table, values, where) {
                const { sql: text, parameters } = sql.bulkUpdate(table, values, where);
                const { affected } = await execute(text, parameters);
                return affected;
            },
            async bulkDelete(table, where, options = {}) {
                if (options.truncate) refuse("bulkDelete's truncate");
                return sequelizeQuery(sql.bulkDelete(table, where));
            },
            describeTable: (table) => describe(table),
            async showAllTables() {
                const rows = await query(
                    postgres
                        ? "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type LIKE '%TABLE' AND table_name != 'spatial_ref_sys';"
                        : mysql
                            ? "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA = DATABASE();"
                            : "SELECT name FROM `sqlite_master` WHERE type='table' and name!='sqlite_sequence';",
                    [],
                );
                return rows.map((row) => Object.values(row)[0]);
            },
            async tableExists(table) {
                const name = sql.escape(sql.tableName(table));
                const rows = await query(
                    postgres
                        ? `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ${name}`
                        : mysql
                            ? `SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME = ${name} AND TABLE_SCHEMA = DATABASE()`
                            : `SELECT name FROM sqlite_master WHERE type='table' AND name=${name};`,
                    [],
                );
                return rows.length === 1;
            },
            quoteIdentifier: (name) => quote(name),
            quoteIdentifiers: (name) => String(name).split(".").map(quote).join("."),
            sequelize,
        },
        (key) =>
            `queryInterface.${key} (handler-db-sequelize supports createTable, dropTable, renameTable, ` +
            "addColumn, removeColumn, changeColumn, renameColumn, addIndex, removeIndex, addConstraint, " +
            "removeConstraint, bulkInsert, bulkUpdate, bulkDelete, describeTable, showAllTables, tableExists " +
            "and queryInterface.sequelize.query; write " +
            "the change as SQL with queryInterface.sequelize.query)",
    );

    // The `sequelize` module, which `Sequelize` is: a class whose statics
    // are the data types and helpers.
    function Sequelize() {
        refuse("new Sequelize(…) (a connection of the migration's own)");
    }
    const statics = {
        ...dataTypes.types,
        DataTypes: dataTypes.types,
        Op,
        QueryTypes,
        fn: (name, ...args) =>
            new Method(`${name}(${args.map((arg) => (arg instanceof Method ? arg.sql : escape(arg))).join(", ")})`),
        col: (name) => new Method(String(name).split(".").map(quote).join(".")),
        literal: (text) => new Method(String(text)),
        Transaction: { ISOLATION_LEVELS: {}, TYPES: {} },
    };
    Object.assign(Sequelize, statics, { Sequelize, default: Sequelize });
    const module = guarded(Sequelize, (key) => `Sequelize.${key}`);

    // As umzug calls it: `this` the module, and what it returns must be a
    // promise (a migration that forgot `return` fails, as under
    // sequelize-cli, whatever it started).
    function call(migration, method) {
        const result = migration[method](queryInterface, module);
        if (!result || typeof result.then !== "function") {
            throw new Error(`${method}() didn't return a promise; sequelize-cli refuses such a migration`);
        }
        return result;
    }

    return { module, call };
});
