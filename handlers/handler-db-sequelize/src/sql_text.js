// The SQL text Sequelize's query generators write for the calls of
// `queryInterface` this handler supports, on `postgres`, `mysql` and
// `sqlite`: quoting, value escaping, column definitions and each call's
// statements. On SQLite the database keeps a table's and an index's
// `CREATE` text as sent, so it is written here byte for byte as Sequelize
// writes it.
"use strict";
(function (dialect, dataTypes, refuse) {
    const { types } = dataTypes;
    const postgres = dialect === "postgres";
    const mysql = dialect === "mysql";
    const sqlite = dialect === "sqlite";

    // `fn`, `col` and `literal`: SQL given as it is, not escaped.
    class Method {
        constructor(sql) {
            this.sql = sql;
        }
    }

    // Quoting removes the quote character rather than doubling it, as
    // Sequelize's does.
    function quote(name) {
        const text = String(name);
        return postgres ? `"${text.replace(/"/g, "")}"` : `\`${text.replace(/`/g, "")}\``;
    }

    // `"schema"."table"` for a dotted or `{ tableName, schema }` name.
    function quoteTable(table) {
        if (table && typeof table === "object") {
            if (!table.schema) {
                return quote(table.tableName);
            }
            return sqlite
                ? quote(`${table.schema}.${table.tableName}`)
                : `${quote(table.schema)}.${quote(table.tableName)}`;
        }
        return String(table).split(".").map(quote).join(".");
    }

    const tableName = (table) => (table && typeof table === "object" ? table.tableName : table);

    const two = (n) => String(n).padStart(2, "0");
    // A date as Sequelize's DATE type sends it, in UTC (its default time
    // zone `+00:00`); MySQL's without milliseconds.
    function date(value) {
        const day = `${value.getUTCFullYear()}-${two(value.getUTCMonth() + 1)}-${two(value.getUTCDate())}`;
        const time = `${two(value.getUTCHours())}:${two(value.getUTCMinutes())}:${two(value.getUTCSeconds())}`;
        if (mysql) {
            return `${day} ${time}`;
        }
        return `${day} ${time}.${String(value.getUTCMilliseconds()).padStart(3, "0")} +00:00`;
    }

    // A value as Sequelize's `escape` writes it into SQL.
    function escape(value) {
        if (value === undefined || value === null) {
            return "NULL";
        }
        if (value instanceof Method) {
            return value.sql;
        }
        if (typeof value === "boolean") {
            return sqlite ? String(+value) : String(value);
        }
        if (typeof value === "number" || typeof value === "bigint") {
            return String(value);
        }
        if (value instanceof Date) {
            value = date(value);
        }
        if (Array.isArray(value)) {
            return postgres ? `ARRAY[${value.map(escape).join(",")}]` : value.map(escape).join(", ");
        }
        if (typeof value !== "string") {
            return refuse(`a value that is an object (${JSON.stringify(value)}) in SQL`);
        }
        if (mysql) {
            const escapes = { "\0": "\\0", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\t": "\\t", "\x1a": "\\Z" };
            return `'${value.replace(/[\0\n\r\b\t\\'"\x1a]/g, (c) => escapes[c] || `\\${c}`)}'`;
        }
        const text = value.replace(/'/g, "''");
        return `'${postgres ? text.replace(/\0/g, "\\0") : text}'`;
    }

    // A column default as PostgreSQL's and SQLite's generators write it,
    // through the column type's `stringify`: a floating number and JSON as
    // quoted text.
    function typedEscape(value, type) {
        if (value === null || value === undefined || value instanceof Method || !(type instanceof dataTypes.ABSTRACT)) {
            return escape(value);
        }
        if (["FLOAT", "REAL", "DOUBLE PRECISION"].includes(type.key)) {
            const number = isNaN(value) ? "NaN" : !isFinite(value) ? `${value < 0 ? "-" : ""}Infinity` : value;
            return `'${number}'`;
        }
        if (type.key === "JSON" || type.key === "JSONB") {
            return escape(JSON.stringify(value));
        }
        if (type.key === "DATEONLY" && value instanceof Date) {
            return escape(date(value).slice(0, 10));
        }
        return escape(value);
    }

    // A value as Sequelize binds it (`bulkUpdate`'s `SET`).
    const bound = (value) => (value instanceof Date ? date(value) : value);

    // Sequelize's `Utils.underscore`: `_` before each capital, lowercased.
    const underscore = (text) => text.replace(/([A-Z])/g, "_$1").replace(/^_/, "").toLowerCase();

    // A column's definition as `normalizeAttribute` makes it: a type alone
    // becomes `{ type }`, a type class an instance.
    function normalize(attribute) {
        const plain = attribute && typeof attribute === "object" && !(attribute instanceof dataTypes.ABSTRACT);
        const normal = plain ? { ...attribute } : { type: attribute };
        if (typeof normal.type === "function") {
            normal.type = new normal.type();
        }
        if (normal.type === undefined) {
            refuse(`a column without a type (${JSON.stringify(attribute)})`);
        }
        if (normal.type instanceof types.ENUM && normal.values && !normal.type.values.length) {
            normal.type.values = normal.values;
        }
        for (const option of ["autoIncrementIdentity", "get", "set", "validate"]) {
            if (option in normal && option !== "validate") {
                refuse(`the column option ${option}`);
            }
        }
        if (normal.references && normal.references.deferrable) {
            refuse("references.deferrable");
        }
        return normal;
    }

    // Sequelize's `defaultValueSchemable`: defaults computed in JavaScript
    // (`NOW`, `UUIDV4`, a function) are not the column's.
    function schemable(value) {
        if (value === undefined || typeof value === "function") {
            return false;
        }
        return !(value instanceof dataTypes.ABSTRACT && value.clientSide);
    }

    const referenced = (references) =>
        quoteTable(
            references.model && typeof references.model === "object" && references.model.tableName
                ? references.model.tableName
                : references.model,
        );

    function onActions(attribute) {
        return (
            (attribute.onDelete ? ` ON DELETE ${attribute.onDelete.toUpperCase()}` : "") +
            (attribute.onUpdate ? ` ON UPDATE ${attribute.onUpdate.toUpperCase()}` : "")
        );
    }

    const enumValues = (type) => `ENUM(${type.values.map(escape).join(", ")})`;

    // `attributeToSQL` of the dialect's query generator. `context` is
    // `createTable`, `addColumn` or `changeColumn`; `table` and `key` name
    // the column.
    function definition(attribute, context, table, key) {
        const type = attribute.type;
        const isEnum = type instanceof types.ENUM;
        if (isEnum && !sqlite && !(type.values && type.values.length)) {
            throw new Error("Values for ENUM haven't been defined.");
        }
        let sql = isEnum && !sqlite ? enumValues(type) : String(type);
        if (mysql) {
            if (attribute.allowNull === false) sql += " NOT NULL";
            if (attribute.autoIncrement) sql += " auto_increment";
            const withoutDefault = ["BLOB", "TEXT", "GEOMETRY", "JSON"].includes(sql);
            if (!withoutDefault && !(type.options && type.options.binary) && schemable(attribute.defaultValue)) {
                sql += ` DEFAULT ${escape(attribute.defaultValue)}`;
            }
            if (attribute.unique === true) sql += " UNIQUE";
            if (attribute.primaryKey) sql += " PRIMARY KEY";
            if (attribute.comment) sql += ` COMMENT ${escape(attribute.comment)}`;
            if (attribute.first) sql += " FIRST";
            if (attribute.after) sql += ` AFTER ${quote(attribute.after)}`;
            if (attribute.references) {
                if (context === "addColumn") {
                    sql += `, ADD CONSTRAINT ${quote(`${tableName(table)}_${key}_foreign_idx`)} FOREIGN KEY (${quote(key)})`;
                }
                sql += ` REFERENCES ${referenced(attribute.references)} (${quote(attribute.references.key || "id")})`;
                sql += onActions(attribute);
            }
            return sql;
        }
        if (Object.prototype.hasOwnProperty.call(attribute, "allowNull") && !attribute.allowNull) {
            sql += " NOT NULL";
        }
        if (postgres && attribute.autoIncrement) sql += " SERIAL";
        if (schemable(attribute.defaultValue)) sql += ` DEFAULT ${typedEscape(attribute.defaultValue, type)}`;
        if (attribute.unique === true) sql += " UNIQUE";
        if (attribute.primaryKey) {
            sql += " PRIMARY KEY";
            if (sqlite && attribute.autoIncrement) sql += " AUTOINCREMENT";
        }
        if (attribute.references) {
            sql += ` REFERENCES ${referenced(attribute.references)} (${quote(attribute.references.key || "id")})`;
            sql += onActions(attribute);
        }
        if (postgres && typeof attribute.comment === "string" && attribute.comment) {
            sql += ["addColumn", "changeColumn"].includes(context)
                ? `; COMMENT ON COLUMN ${quoteTable(table)}.${quote(key)} IS ${escape(attribute.comment)}`
                : ` COMMENT ${attribute.comment}`;
        }
        return sql;
    }

    // PostgreSQL's `dataTypeMapping`: the key moves to the table, a serial
    // integer becomes `SERIAL`, an enum its type.
    function pgMapping(table, key, sql) {
        sql = sql.replace("PRIMARY KEY", "");
        if (sql.includes("SERIAL")) {
            if (sql.includes("BIGINT")) {
                sql = sql.replace("SERIAL", "BIGSERIAL").replace("BIGINT", "");
            } else if (sql.includes("SMALLINT")) {
                sql = sql.replace("SERIAL", "SMALLSERIAL").replace("SMALLINT", "");
            } else {
                sql = sql.replace("INTEGER", "");
            }
            sql = sql.replace("NOT NULL", "");
        }
        if (sql.startsWith("ENUM(")) {
            sql = sql.replace(/^ENUM\(.+\)/, pgEnumName(table, key));
        }
        return sql;
    }

    const pgEnumName = (table, key) => `"public"."enum_${tableName(table)}_${key}"`;

    // What `ensureEnums` reads before it creates an enum type, and the
    // statement that creates it.
    const pgEnumQuery = (table, key) =>
        "SELECT t.typname enum_name, array_agg(e.enumlabel ORDER BY enumsortorder) enum_value FROM " +
        "pg_type t JOIN pg_enum e ON t.oid = e.enumtypid JOIN pg_catalog.pg_namespace n ON n.oid = " +
        `t.typnamespace WHERE n.nspname = 'public' AND t.typname='enum_${tableName(table)}_${key}' GROUP BY 1`;
    const pgEnumCreate = (table, key, type) =>
        `DO ${escape(`BEGIN CREATE TYPE ${pgEnumName(table, key)} AS ${enumValues(type)}; EXCEPTION WHEN duplicate_object THEN null; END`)};`;

    // `createTableQuery`: the statements, in order (PostgreSQL's column
    // comments follow the table).
    function createTable(table, attributes, options) {
        const quoted = quoteTable(table);
        const columns = Object.entries(attributes).map(([key, attribute]) => [
            key,
            definition(attribute, "createTable", table, key),
        ]);
        if (postgres) {
            const comments = [];
            const parts = columns.map(([key, sql]) => {
                const at = sql.indexOf("COMMENT ");
                if (at !== -1) {
                    comments.push(`COMMENT ON COLUMN ${quoted}.${quote(key)} IS ${escape(sql.substring(at + 8))};`);
                    sql = sql.substring(0, at);
                }
                return `${quote(key)} ${pgMapping(table, key, sql)}`;
            });
            const keys = columns.filter(([, sql]) => sql.includes("PRIMARY KEY")).map(([key]) => quote(key));
            const primary = keys.length ? `, PRIMARY KEY (${keys.join(",")})` : "";
            const tableComment = typeof options.comment === "string" && options.comment
                ? [`COMMENT ON TABLE ${quoted} IS ${escape(options.comment)};`]
                : [];
            return [`CREATE TABLE IF NOT EXISTS ${quoted} (${parts.join(", ")}${primary});`, ...tableComment, ...comments];
        }
        if (mysql) {
            const keys = [];
            const foreign = [];
            const parts = columns.map(([key, sql]) => {
                if (sql.includes("PRIMARY KEY")) {
                    keys.push(quote(key));
                    sql = sql.replace("PRIMARY KEY", "");
                }
                const reference = sql.match(/^(.+) (REFERENCES.*)$/);
                if (reference) {
                    foreign.push(`, FOREIGN KEY (${quote(key)}) ${reference[2]}`);
                    sql = reference[1];
                }
                return `${quote(key)} ${sql}`;
            });
            const primary = keys.length ? `, PRIMARY KEY (${keys.join(", ")})` : "";
            const tail = [
                `ENGINE=${options.engine || "InnoDB"}`,
                typeof options.comment === "string" && options.comment && `COMMENT ${escape(options.comment)}`,
                options.charset && `DEFAULT CHARSET=${options.charset}`,
                options.collate && `COLLATE ${options.collate}`,
                options.initialAutoIncrement && `AUTO_INCREMENT=${options.initialAutoIncrement}`,
                options.rowFormat && `ROW_FORMAT=${options.rowFormat}`,
            ].filter(Boolean);
            return [`CREATE TABLE IF NOT EXISTS ${quoted} (${parts.join(", ")}${primary}${foreign.join("")}) ${tail.join(" ")};`];
        }
        const several = columns.filter(([, sql]) => sql.includes("PRIMARY KEY")).length > 1;
        const keys = [];
        const parts = columns.map(([key, sql]) => {
            let text = sql;
            if (sql.includes("PRIMARY KEY")) {
                if (sql.includes("INT")) {
                    text = sql.includes("AUTOINCREMENT") ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "INTEGER PRIMARY KEY";
                    if (sql.includes(" REFERENCES")) {
                        text += sql.substring(sql.indexOf(" REFERENCES"));
                    }
                }
                if (several) {
                    keys.push(quote(key));
                    text = sql.includes("NOT NULL") ? sql.replace(" PRIMARY KEY", "") : sql.replace("PRIMARY KEY", "NOT NULL");
                }
            }
            return `${quote(key)} ${text}`;
        });
        const primary = keys.length ? `, PRIMARY KEY (${keys.join(", ")})` : "";
        return [booleanDefaults(`CREATE TABLE IF NOT EXISTS ${quoted} (${parts.join(", ")}${primary});`)];
    }

    const booleanDefaults = (sql) =>
        sql.replace(/DEFAULT '?false'?/g, "DEFAULT 0").replace(/DEFAULT '?true'?/g, "DEFAULT 1");

    // PostgreSQL's `"public"."table"`, as its `extractTableDetails` gives.
    const inSchema = (table) =>
        typeof table === "string" && !table.includes(".") ? `"public".${quote(table)}` : quoteTable(table);

    function addColumn(table, key, attribute) {
        const sql = definition(attribute, "addColumn", table, key);
        if (postgres) {
            const type = attribute.type instanceof types.ENUM ? [pgEnumCreate(table, key, attribute.type)] : [];
            const alter = `ALTER TABLE ${inSchema(table)} ADD COLUMN ${quote(key)} ${pgMapping(table, key, sql)};`;
            return [...type, ...splitStatements(alter)];
        }
        const statement = `ALTER TABLE ${quoteTable(table)} ADD ${quote(key)} ${sql};`;
        return [sqlite ? booleanDefaults(statement) : statement];
    }

    function removeColumn(table, key) {
        if (postgres) {
            return `ALTER TABLE ${inSchema(table)} DROP COLUMN ${quote(key)};`;
        }
        return `ALTER TABLE ${quoteTable(table)} DROP ${quote(key)};`;
    }

    // `changeColumnQuery`.
    function changeColumn(table, key, attribute) {
        let sql = definition(attribute, "changeColumn", table, key);
        if (mysql) {
            if (sql.includes("REFERENCES")) {
                return [`ALTER TABLE ${quoteTable(table)} ADD FOREIGN KEY (${quote(key)}) ${sql.replace(/.+?(?=REFERENCES)/, "")};`];
            }
            return [`ALTER TABLE ${quoteTable(table)} CHANGE \`${key}\` \`${key}\` ${sql};`];
        }
        if (attribute.type instanceof types.ENUM) {
            refuse("queryInterface.changeColumn to an ENUM on PostgreSQL");
        }
        const alter = (what) => `ALTER TABLE ${quoteTable(table)} ALTER COLUMN ${what};`;
        const statements = [];
        sql = pgMapping(table, key, sql);
        if (sql.includes("NOT NULL")) {
            statements.push(alter(`${quote(key)} SET NOT NULL`));
            sql = sql.replace("NOT NULL", "").trim();
        } else if (!sql.includes("REFERENCES")) {
            statements.push(alter(`${quote(key)} DROP NOT NULL`));
        }
        if (sql.includes("DEFAULT")) {
            statements.push(alter(`${quote(key)} SET DEFAULT ${sql.match(/DEFAULT ([^;]+)/)[1]}`));
            sql = sql.replace(/(DEFAULT[^;]+)/, "").trim();
        } else if (!sql.includes("REFERENCES")) {
            statements.push(alter(`${quote(key)} DROP DEFAULT`));
        }
        if (sql.match(/UNIQUE;*$/)) {
            sql = sql.replace(/UNIQUE;*$/, "");
            statements.push(alter(`ADD UNIQUE (${quote(key)})`).replace("ALTER COLUMN", ""));
        }
        if (sql.includes("REFERENCES")) {
            sql = sql.replace(/.+?(?=REFERENCES)/, "");
            statements.push(alter(`ADD FOREIGN KEY (${quote(key)}) ${sql}`).replace("ALTER COLUMN", ""));
        } else {
            statements.push(alter(`${quote(key)} TYPE ${sql}`));
        }
        return statements.flatMap(splitStatements);
    }

    // One statement a call: the host's driver takes one.
    const splitStatements = (sql) =>
        sql.split(/;(?=\s*(?:ALTER|COMMENT|CREATE|DO)\b)/).map((part, index, all) =>
            index < all.length - 1 ? `${part.trim()};` : part.trim());

    // `addIndexQuery`.
    function addIndex(table, fields, options) {
        const columns = fields.map((field) => {
            if (field instanceof Method) {
                return field.sql;
            }
            const spec = typeof field === "string" ? { name: field } : { ...field };
            spec.name = spec.attribute || spec.name;
            if (!spec.name) {
                throw new Error(`The following index field has no name: ${JSON.stringify(field)}`);
            }
            let sql = quote(spec.name);
            if (!mysql && spec.collate) sql += ` COLLATE ${quote(spec.collate)}`;
            if (postgres && (spec.operator || options.operator)) sql += ` ${spec.operator || options.operator}`;
            if (mysql && spec.length) sql += `(${spec.length})`;
            if (spec.order) sql += ` ${spec.order}`;
            return sql;
        });
        const prefix = String(options.prefix || tableName(table)).replace(/\./g, "_").replace(/("|')/g, "");
        const name = Object.prototype.hasOwnProperty.call(options, "name")
            ? options.name
            : underscore(`${prefix}_${fields.map((field) => (typeof field === "string" ? field : field.name || field.attribute)).join("_")}`);
        let type = options.type;
        let unique = options.unique;
        if (type && String(type).toLowerCase() === "unique") {
            unique = true;
            type = undefined;
        }
        if (!mysql) {
            type = undefined;
        }
        const target = typeof table === "string" ? table.split(".").map(quote).join(".") : quoteTable(table);
        const concurrently = postgres && options.concurrently ? "CONCURRENTLY" : undefined;
        const where = !mysql && options.where ? whereClause(options.where) : undefined;
        const parts = mysql
            ? ["ALTER TABLE", target, "ADD", unique ? "UNIQUE" : "", type, "INDEX", quote(name),
                options.using ? `USING ${options.using}` : "", `(${columns.join(", ")})`,
                options.parser ? `WITH PARSER ${options.parser}` : undefined]
            : ["CREATE", unique ? "UNIQUE" : "", "INDEX", concurrently, String(name).split(".").map(quote).join("."),
                `ON ${target}`, postgres && options.using ? `USING ${options.using}` : "",
                `(${columns.join(", ")})`, where];
        return parts.filter(Boolean).join(" ");
    }

    function removeIndex(table, nameOrFields, options) {
        const name = typeof nameOrFields === "string"
            ? nameOrFields
            : underscore(`${tableName(table)}_${nameOrFields.join("_")}`);
        if (mysql) {
            return `DROP INDEX ${quote(name)} ON ${quoteTable(table)}`;
        }
        if (postgres) {
            return ["DROP INDEX", options.concurrently && "CONCURRENTLY", `IF EXISTS ${name.split(".").map(quote).join(".")}`]
                .filter(Boolean).join(" ");
        }
        return `DROP INDEX IF EXISTS ${quote(name)}`;
    }

    // `getConstraintSnippet`: `CONSTRAINT name ...`, named as Sequelize
    // names a constraint it is not given a name for.
    function constraintSnippet(table, options) {
        const fields = options.fields.map((field) => (typeof field === "string" ? field : field.name || field.attribute));
        const columns = fields.map(quote).join(", ");
        const kind = String(options.type).toUpperCase();
        const base = `${tableName(table)}_${fields.join("_")}`;
        let name;
        let body;
        switch (kind) {
            case "UNIQUE":
                name = options.name || `${base}_uk`;
                body = `UNIQUE (${columns})`;
                break;
            case "CHECK":
                name = options.name || `${base}_ck`;
                body = `CHECK (${whereItems(options.where)})`;
                break;
            case "PRIMARY KEY":
                name = options.name || `${base}_pk`;
                body = `PRIMARY KEY (${columns})`;
                break;
            case "FOREIGN KEY": {
                const references = options.references || {};
                if (!references.table || !(references.field || references.fields)) {
                    throw new Error("references object with table and field must be specified");
                }
                name = options.name || `${base}_${tableName(references.table)}_fk`;
                const target = references.fields ? references.fields.map(quote).join(", ") : quote(references.field);
                body = `FOREIGN KEY (${columns}) REFERENCES ${quoteTable(references.table)} (${target})`;
                if (options.onDelete) body += ` ON DELETE ${options.onDelete.toUpperCase()}`;
                if (options.onUpdate) body += ` ON UPDATE ${options.onUpdate.toUpperCase()}`;
                if (options.deferrable) refuse("addConstraint's deferrable");
                break;
            }
            default:
                throw new Error(`${options.type} is invalid.`);
        }
        return `CONSTRAINT ${quote(name)} ${body}`;
    }

    // `addConstraintQuery` on PostgreSQL and MySQL (SQLite rebuilds the
    // table: `sqliteAlterConstraint`).
    const addConstraint = (table, options) =>
        `ALTER TABLE ${quoteTable(table)} ADD ${constraintSnippet(table, options)};`;

    const backupOf = (table) =>
        table && typeof table === "object" ? { ...table, tableName: `${table.tableName}_backup` } : `${table}_backup`;

    // SQLite's `removeColumnQuery` and `renameColumnQuery`, which Sequelize
    // also uses for `changeColumn`: the table copied into a backup made
    // from `fields` (the table as described, changed), dropped, made again
    // and copied back. `renamed` is `[before, after]` for a rename.
    function sqliteRebuild(table, fields, renamed) {
        const backup = backupOf(table);
        const names = Object.keys(fields);
        const exported = names.map(quote).join(", ");
        const imported = renamed
            ? names.map((name) => (name === renamed[1] ? `${quote(renamed[0])} AS ${quote(name)}` : quote(name))).join(", ")
            : exported;
        return [
            ...createTable(backup, fields, {}),
            `INSERT INTO ${quoteTable(backup)} SELECT ${imported} FROM ${quoteTable(table)};`,
            `DROP TABLE ${quoteTable(table)};`,
            ...createTable(table, fields, {}),
            `INSERT INTO ${quoteTable(table)} SELECT ${exported} FROM ${quoteTable(backup)};`,
            `DROP TABLE ${quoteTable(backup)};`,
        ];
    }

    // SQLite's `_alterConstraintQuery`: the table made again from its own
    // `CREATE` text with the constraint added, under the backup's name,
    // filled, and renamed over the old one.
    function sqliteAlterConstraint(table, fields, createTableSql) {
        const backup = quoteTable(backupOf(table));
        const quoted = quoteTable(table);
        const names = Object.keys(fields).map(quote).join(", ");
        const created = createTableSql
            .replace(`CREATE TABLE ${quoted}`, `CREATE TABLE ${backup}`)
            .replace(`CREATE TABLE ${quoted.replace(/`/g, '"')}`, `CREATE TABLE ${backup}`);
        return [
            created,
            `INSERT INTO ${backup} SELECT ${names} FROM ${quoted};`,
            `DROP TABLE ${quoted};`,
            `ALTER TABLE ${backup} RENAME TO ${quoted};`,
        ];
    }

    // The `where` of the data calls and of partial indexes: columns equal
    // to values (`null` is `IS NULL`, an array `IN`), and the common
    // operators of `Sequelize.Op`.
    const operators = {
        eq: "=", ne: "!=", gt: ">", gte: ">=", lt: "<", lte: "<=", like: "LIKE", notLike: "NOT LIKE",
        in: "IN", notIn: "NOT IN", is: "IS", not: "IS NOT",
    };

    // `render` writes a value: escaped into the text, or bound.
    function condition(column, value, render) {
        const left = quote(column);
        if (value === null) {
            return `${left} IS NULL`;
        }
        if (Array.isArray(value)) {
            return `${left} IN (${value.map(render).join(", ")})`;
        }
        if (value && typeof value === "object" && !(value instanceof Date) && !(value instanceof Method)) {
            const symbols = Object.getOwnPropertySymbols(value);
            if (!symbols.length || Object.keys(value).length) {
                refuse(`a where on ${column} that is not a value or Sequelize.Op operators`);
            }
            return symbols.map((symbol) => {
                const name = Symbol.keyFor(symbol);
                const operator = operators[name];
                if (!operator) refuse(`Sequelize.Op.${name}`);
                const operand = value[symbol];
                if (operator === "IN" || operator === "NOT IN") {
                    return `${left} ${operator} (${[].concat(operand).map(render).join(", ")})`;
                }
                if (operand === null && (operator === "=" || operator === "IS")) return `${left} IS NULL`;
                if (operand === null && (operator === "!=" || operator === "IS NOT")) return `${left} IS NOT NULL`;
                return `${left} ${operator} ${render(operand)}`;
            }).join(" AND ");
        }
        return `${left} = ${render(value)}`;
    }

    function whereItems(where, render = escape) {
        if (where instanceof Method) {
            return where.sql;
        }
        const symbols = Object.getOwnPropertySymbols(where);
        if (symbols.length) {
            refuse(`a where that combines conditions with Sequelize.Op.${Symbol.keyFor(symbols[0])}`);
        }
        return Object.entries(where).map(([column, value]) => condition(column, value, render)).join(" AND ");
    }

    const whereClause = (where) => {
        const items = where ? whereItems(where) : "";
        return items ? `WHERE ${items}` : "";
    };

    // `bulkInsertQuery`: every record's keys, in the order first seen.
    function bulkInsert(table, records, options) {
        const columns = [];
        for (const record of records) {
            for (const key of Object.keys(record)) {
                if (!columns.includes(key)) columns.push(key);
            }
        }
        const rows = records.map((record) => `(${columns.map((key) => escape(record[key])).join(",")})`);
        const ignore = options.ignoreDuplicates ? (mysql ? " IGNORE" : sqlite ? " OR IGNORE" : "") : "";
        const conflict = options.ignoreDuplicates && postgres ? " ON CONFLICT DO NOTHING" : "";
        const returning = postgres && options.returning ? " RETURNING *" : "";
        return `INSERT${ignore} INTO ${quoteTable(table)} (${columns.map(quote).join(",")}) VALUES ${rows.join(",")}${conflict}${returning};`;
    }

    // `updateQuery`, with Sequelize's bound values: the SQL and its
    // parameters.
    function bulkUpdate(table, values, where) {
        const parameters = [];
        const marker = (value) => {
            if (value instanceof Method) return value.sql;
            parameters.push(bound(value));
            return postgres ? `$${parameters.length}` : "?";
        };
        const sets = Object.entries(values).map(([column, value]) => `${quote(column)}=${marker(value)}`);
        const items = where && typeof where === "object" ? whereItems(where, marker) : "";
        const sql = `UPDATE ${quoteTable(table)} SET ${sets.join(",")}${items ? ` WHERE ${items}` : ""}`;
        return { sql, parameters };
    }

    function bulkDelete(table, where) {
        const clause = where && typeof where === "object" ? whereClause(where) : "";
        return `DELETE FROM ${quoteTable(table)}${clause ? ` ${clause}` : ""}`;
    }

    function dropTable(table, options) {
        const cascade = postgres && (options.cascade || options.force) ? " CASCADE" : "";
        return `DROP TABLE IF EXISTS ${quoteTable(table)}${cascade};`;
    }

    const renameTable = (before, after) => `ALTER TABLE ${quoteTable(before)} RENAME TO ${quoteTable(after)};`;

    return {
        Method, quote, quoteTable, escape, normalize, createTable, addColumn, removeColumn, changeColumn,
        addIndex, removeIndex, addConstraint, constraintSnippet, sqliteRebuild, sqliteAlterConstraint, bulkInsert, bulkUpdate, bulkDelete, dropTable, renameTable,
        pgEnumQuery, pgEnumCreate, definition, tableName,
    };
});
