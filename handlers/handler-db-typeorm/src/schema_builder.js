// The schema-builder methods of TypeORM's query runner that hand-written
// migrations use, writing the SQL TypeORM's query runners write for each
// database (the same statements, names made by its default naming
// strategy), sent through `query`. A method or an option whose SQL differs
// in ways not written here is refused by name rather than approximated.
"use strict";
(function (dialect, query, sha1, refuse) {
    const postgres = dialect === "postgresql";
    const mysql = dialect === "mysql";
    const sqlite = dialect === "sqlite";

    const quote = (name) => (mysql ? `\`${name}\`` : `"${name}"`);
    const path = (table) => String(nameOf(table)).split(".").map(quote).join(".");
    const nameOf = (table) => (typeof table === "string" ? table : table.name);
    const columnList = (names, separator = ", ") => names.map(quote).join(separator);

    // DefaultNamingStrategy: a prefix and the start of the SHA-1 of the
    // table's own name and the sorted columns (and an index's condition).
    function hashedName(prefix, length, table, columns, where) {
        const tableName = String(nameOf(table)).split(".").pop().replace(".", "_");
        let key = `${tableName}_${[...columns].sort().join("_")}`;
        if (where) {
            key += `_${where}`;
        }
        return prefix + sha1(key).slice(0, length);
    }
    const primaryKeyName = (table, columns) => hashedName("PK_", 27, table, columns);
    const uniqueName = (table, columns) => hashedName("UQ_", 27, table, columns);
    const foreignKeyName = (table, columns) => hashedName("FK_", 27, table, columns);
    const indexName = (table, columns, where) => hashedName("IDX_", 26, table, columns, where);

    // TableColumn's defaults.
    function column(options) {
        if (typeof options.type === "function") {
            refuse(`a column type given as ${options.type.name} (column ${options.name})`);
        }
        if (options.generationStrategy !== undefined && options.generationStrategy !== "increment") {
            refuse(`generationStrategy "${options.generationStrategy}" (column ${options.name})`);
        }
        for (const option of ["enum", "asExpression", "comment", "isArray", "spatialFeatureType"]) {
            if (options[option]) {
                refuse(`the column option ${option} (column ${options.name})`);
            }
        }
        // TypeORM rewrites these types around their precision.
        if (/^(time|timestamp) with(out)? time zone$/.test(options.type) && options.precision != null) {
            refuse(`a precision on type ${options.type} (column ${options.name})`);
        }
        return {
            ...options,
            type: options.type || "",
            length: options.length ?? "",
            isNullable: options.isNullable ?? false,
            isGenerated: options.isGenerated ?? false,
            isPrimary: options.isPrimary ?? false,
            isUnique: options.isUnique ?? false,
            unsigned: options.unsigned ?? false,
        };
    }

    // Options whose SQL is not written here, refused where they are set.
    function refuseSet(object, options, what) {
        for (const option of options) {
            if (object[option] !== undefined && object[option] !== false && object[option] !== null) {
                refuse(`the ${what} option ${option}`);
            }
        }
    }

    function index(options) {
        refuseSet(options, ["isFulltext", "isSpatial", "isConcurrent", "type", "parser", "isNullFiltered"], "index");
        return { ...options };
    }

    function foreignKey(options) {
        refuseSet(options, ["deferrable", "referencedSchema", "referencedDatabase"], "foreign key");
        return { ...options };
    }

    function table(options) {
        if (typeof options === "string") {
            refuse("a table given by name where TypeORM takes a Table");
        }
        for (const option of ["checks", "exclusions", "comment"]) {
            if (options[option] && options[option].length !== 0) {
                refuse(`the table option ${option} (table ${options.name})`);
            }
        }
        refuseSet(options, ["schema", "database", "withoutRowid"], "table");
        for (const unique of options.uniques || []) {
            refuseSet(unique, ["deferrable"], "unique");
        }
        return {
            name: options.name,
            columns: (options.columns || []).map(column),
            indices: (options.indices || []).map(index),
            foreignKeys: (options.foreignKeys || []).map(foreignKey),
            uniques: (options.uniques || []).map((unique) => ({ ...unique })),
            engine: options.engine,
        };
    }

    // The driver's createFullType: the type with its length or precision;
    // MySQL gives varchar a length of 255 when none is set.
    function fullType(column) {
        let type = column.type;
        const length =
            column.length ||
            (mysql && ["varchar", "nvarchar", "national varchar", "varbinary"].includes(type) ? "255" : "");
        if (length) {
            type += `(${length})`;
        } else if (column.precision != null && column.scale != null) {
            type += `(${column.precision},${column.scale})`;
        } else if (column.precision != null) {
            type += `(${column.precision})`;
        }
        return type;
    }

    function columnSql(table, column, skipPrimary) {
        let sql = quote(column.name);
        // PostgreSQL makes any generated integer key a serial; MySQL and
        // SQLite count only the `increment` strategy.
        const increments =
            column.isGenerated === true && (postgres || column.generationStrategy === "increment");
        if (postgres) {
            if (increments && ["integer", "int", "int4"].includes(column.type)) sql += " SERIAL";
            if (increments && ["smallint", "int2"].includes(column.type)) sql += " SMALLSERIAL";
            if (increments && ["bigint", "int8"].includes(column.type)) sql += " BIGSERIAL";
            if (!increments) sql += ` ${fullType(column)}`;
            if (column.charset) sql += ` CHARACTER SET "${column.charset}"`;
            if (column.collation) sql += ` COLLATE "${column.collation}"`;
            if (column.isNullable !== true) sql += " NOT NULL";
            if (column.default != null) sql += ` DEFAULT ${column.default}`;
            return sql;
        }
        if (mysql) {
            sql += ` ${fullType(column)}`;
            if (column.charset) sql += ` CHARACTER SET "${column.charset}"`;
            if (column.collation) sql += ` COLLATE "${column.collation}"`;
            if (column.unsigned) sql += " UNSIGNED";
            sql += column.isNullable ? " NULL" : " NOT NULL";
            if (column.isPrimary && !skipPrimary) sql += " PRIMARY KEY";
            if (increments) sql += " AUTO_INCREMENT";
            if (column.default != null) sql += ` DEFAULT ${column.default}`;
            if (column.onUpdate) sql += ` ON UPDATE ${column.onUpdate}`;
            return sql;
        }
        sql += ` ${fullType(column)}`;
        if (column.isPrimary && !skipPrimary) sql += " PRIMARY KEY";
        if (increments) sql += " AUTOINCREMENT";
        if (column.collation) sql += ` COLLATE ${column.collation}`;
        if (column.isNullable !== true) sql += " NOT NULL";
        if (column.default != null) sql += ` DEFAULT (${column.default})`;
        return sql;
    }

    // A foreign key inside CREATE TABLE (SQLite names the referenced table
    // without its database).
    function foreignKeySql(table, key) {
        key.name ??= foreignKeyName(table, key.columnNames);
        const referenced = sqlite
            ? quote(String(key.referencedTableName).split(".").pop())
            : path(key.referencedTableName);
        let sql =
            `CONSTRAINT ${quote(key.name)} FOREIGN KEY (${columnList(key.columnNames)}) ` +
            `REFERENCES ${referenced} (${columnList(key.referencedColumnNames)})`;
        if (key.onDelete) sql += ` ON DELETE ${key.onDelete}`;
        if (key.onUpdate) sql += ` ON UPDATE ${key.onUpdate}`;
        return sql;
    }

    function indexSql(table, index) {
        index.name ??= indexName(table, index.columnNames, index.where);
        const unique = index.isUnique ? "UNIQUE " : "";
        const columns = columnList(index.columnNames);
        if (mysql) {
            return `CREATE ${unique}INDEX ${quote(index.name)} ON ${path(table)} (${columns})`;
        }
        const where = index.where ? "WHERE " + index.where : "";
        if (postgres) {
            return `CREATE ${unique}INDEX "${index.name}" ON ${path(table)}  (${columns}) ${where}`;
        }
        return `CREATE ${unique}INDEX "${index.name}" ON "${nameOf(table)}" (${columns}) ${where}`;
    }

    function createTableSql(table, createForeignKeys) {
        const primary = table.columns.filter((column) => column.isPrimary);
        const skipPrimary = mysql || (sqlite && primary.length > 1);
        let sql = `CREATE TABLE ${path(table)} (${table.columns
            .map((column) => columnSql(table, column, skipPrimary))
            .join(", ")}`;
        for (const column of table.columns.filter((column) => column.isUnique)) {
            const covered = mysql
                ? table.indices.some((index) => index.columnNames.length === 1 && index.isUnique && index.columnNames.includes(column.name)) ||
                  table.uniques.some((unique) => unique.columnNames.length === 1 && unique.columnNames.includes(column.name))
                : table.uniques.some((unique) => unique.columnNames.length === 1 && unique.columnNames[0] === column.name);
            if (covered) continue;
            const name = uniqueName(table, [column.name]);
            if (mysql) {
                table.indices.push({ name, columnNames: [column.name], isUnique: true });
            } else {
                table.uniques.push({ name, columnNames: [column.name] });
            }
        }
        if (mysql) {
            for (const unique of table.uniques) {
                if (!table.indices.some((index) => index.name === unique.name)) {
                    table.indices.push({ name: unique.name, columnNames: unique.columnNames, isUnique: true });
                }
            }
            if (table.indices.length > 0) {
                sql += ", " + table.indices
                    .map((index) => {
                        index.name ??= indexName(table, index.columnNames, index.where);
                        return `${index.isUnique ? "UNIQUE " : ""}INDEX ${quote(index.name)} (${columnList(index.columnNames)})`;
                    })
                    .join(", ");
            }
        } else if (table.uniques.length > 0) {
            sql += ", " + table.uniques
                .map((unique) => `CONSTRAINT "${unique.name ?? uniqueName(table, unique.columnNames)}" UNIQUE (${columnList(unique.columnNames)})`)
                .join(", ");
        }
        if (createForeignKeys && table.foreignKeys.length > 0) {
            sql += ", " + table.foreignKeys.map((key) => foreignKeySql(table, key)).join(", ");
        }
        if (postgres && primary.length > 0) {
            const name = primary[0].primaryKeyConstraintName ?? primaryKeyName(table, primary.map((column) => column.name));
            sql += `, CONSTRAINT "${name}" PRIMARY KEY (${columnList(primary.map((column) => column.name))})`;
        } else if ((mysql && primary.length > 0) || (sqlite && primary.length > 1)) {
            sql += `, PRIMARY KEY (${columnList(primary.map((column) => column.name))})`;
        }
        sql += ")";
        if (mysql) {
            sql += ` ENGINE=${table.engine ?? "InnoDB"}`;
        }
        return sql;
    }

    async function hasTable(tableOrName) {
        const name = String(nameOf(tableOrName)).split(".").pop();
        const sql = postgres
            ? "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1"
            : mysql
              ? "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
              : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?";
        return (await query(sql, [name])).length > 0;
    }

    async function hasColumn(tableOrName, columnName) {
        const name = String(nameOf(tableOrName)).split(".").pop();
        const sql = postgres
            ? "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
            : mysql
              ? "SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
              : "SELECT 1 FROM pragma_table_info(?) WHERE name = ?";
        return (await query(sql, [name, columnName])).length > 0;
    }

    // On SQLite TypeORM changes a table by rebuilding it, which is not
    // written here.
    function altersOnSqlite(method) {
        if (sqlite) {
            refuse(`queryRunner.${method} on SQLite (TypeORM rebuilds the table there)`);
        }
    }

    async function addColumn(tableOrName, options) {
        altersOnSqlite("addColumn");
        const added = column(options);
        if (added.isPrimary) refuse(`queryRunner.addColumn of a primary key column (${added.name})`);
        if (added.isUnique && mysql) refuse(`queryRunner.addColumn of a unique column on MySQL (${added.name})`);
        await query(`ALTER TABLE ${path(tableOrName)} ADD ${columnSql(tableOrName, added, true)}`, []);
        if (added.isUnique) {
            const name = uniqueName(tableOrName, [added.name]);
            await query(`ALTER TABLE ${path(tableOrName)} ADD CONSTRAINT "${name}" UNIQUE (${quote(added.name)})`, []);
        }
    }

    async function dropColumn(tableOrName, columnOrName, ifExists) {
        altersOnSqlite("dropColumn");
        refuseIfExists("dropColumn", ifExists);
        await query(`ALTER TABLE ${path(tableOrName)} DROP COLUMN ${quote(nameOf(columnOrName))}`, []);
    }

    async function createForeignKey(tableOrName, options) {
        altersOnSqlite("createForeignKey");
        const key = foreignKey(options);
        key.name ??= foreignKeyName(tableOrName, key.columnNames);
        let sql =
            `ALTER TABLE ${path(tableOrName)} ADD CONSTRAINT ${quote(key.name)} FOREIGN KEY (${columnList(key.columnNames)}) ` +
            `REFERENCES ${path(key.referencedTableName)}(${columnList(key.referencedColumnNames, ",")})`;
        if (key.onDelete) sql += ` ON DELETE ${key.onDelete}`;
        if (key.onUpdate) sql += ` ON UPDATE ${key.onUpdate}`;
        await query(sql, []);
    }

    async function dropForeignKey(tableOrName, keyOrName, ifExists) {
        altersOnSqlite("dropForeignKey");
        refuseIfExists("dropForeignKey", ifExists);
        const name = typeof keyOrName === "string" ? keyOrName : keyOrName.name ?? foreignKeyName(tableOrName, keyOrName.columnNames);
        await query(
            mysql
                ? `ALTER TABLE ${path(tableOrName)} DROP FOREIGN KEY ${quote(name)}`
                : `ALTER TABLE ${path(tableOrName)} DROP CONSTRAINT "${name}"`,
            [],
        );
    }

    async function createIndex(tableOrName, options) {
        await query(indexSql(tableOrName, index(options)), []);
    }

    // TypeORM skips a drop of what is missing when asked; not written here.
    function refuseIfExists(method, ifExists) {
        if (ifExists) {
            refuse(`queryRunner.${method} with ifExists`);
        }
    }

    async function dropIndex(tableOrName, indexOrName, ifExists) {
        refuseIfExists("dropIndex", ifExists);
        const name = typeof indexOrName === "string" ? indexOrName : indexOrName.name ?? indexName(tableOrName, indexOrName.columnNames, indexOrName.where);
        await query(mysql ? `DROP INDEX ${quote(name)} ON ${path(tableOrName)}` : `DROP INDEX "${name}"`, []);
    }

    async function createTable(options, ifNotExist = false, createForeignKeys = true, createIndices = true) {
        if (ifNotExist && (await hasTable(options))) {
            return;
        }
        const created = table(options);
        await query(createTableSql(created, createForeignKeys), []);
        if (!mysql && createIndices) {
            for (const index of created.indices) {
                await query(indexSql(created, index), []);
            }
        }
    }

    async function dropTable(tableOrName, ifExist = false) {
        if (ifExist && !(await hasTable(tableOrName))) {
            return;
        }
        await query(`DROP TABLE ${path(tableOrName)}`, []);
    }

    const each = (method) => async (tableOrName, items, ...flags) => {
        for (const item of items) {
            await method(tableOrName, item, ...flags);
        }
    };

    return {
        hasTable,
        hasColumn,
        createTable,
        dropTable,
        addColumn,
        addColumns: each(addColumn),
        dropColumn,
        dropColumns: each(dropColumn),
        createIndex,
        createIndices: each(createIndex),
        dropIndex,
        dropIndices: each(dropIndex),
        createForeignKey,
        createForeignKeys: each(createForeignKey),
        dropForeignKey,
        dropForeignKeys: each(dropForeignKey),
    };
});
