// Sequelize's data types as a migration uses them (`Sequelize.STRING(100)`,
// `Sequelize.INTEGER.UNSIGNED`, `Sequelize.ENUM("a", "b")`), each writing
// the column type Sequelize writes for the dialect: `postgres`, `mysql`
// or `sqlite` (Sequelize's names).
"use strict";
(function (dialect) {
    // Sequelize's types may be used as classes, called, or `new`ed.
    const invokable = (Class) =>
        new Proxy(Class, {
            apply(target, _, args) {
                return new target(...args);
            },
        });

    class ABSTRACT {
        toString() {
            return this.toSql();
        }
        toSql() {
            return this.key;
        }
    }

    // A first argument that is an options object, or the positional ones.
    const options = (first, positional) =>
        (typeof first === "object" && first) || positional;

    class STRING extends ABSTRACT {
        constructor(length, binary) {
            super();
            this.options = options(length, { length, binary });
            this._length = this.options.length || 255;
        }
        get BINARY() {
            this.options.binary = true;
            return this;
        }
        static get BINARY() {
            return new this().BINARY;
        }
        toSql() {
            const binary = this.options.binary;
            if (binary && dialect === "postgres") {
                return "BYTEA";
            }
            if (binary && dialect === "sqlite") {
                return `${this.sqlName} BINARY(${this._length})`;
            }
            return `${this.sqlName}(${this._length})${binary ? " BINARY" : ""}`;
        }
    }
    STRING.prototype.key = "STRING";
    STRING.prototype.sqlName = "VARCHAR";

    class CHAR extends STRING {}
    CHAR.prototype.key = "CHAR";
    CHAR.prototype.sqlName = "CHAR";

    class TEXT extends ABSTRACT {
        constructor(length) {
            super();
            this.options = options(length, { length });
        }
        toSql() {
            const sizes = { tiny: "TINYTEXT", medium: "MEDIUMTEXT", long: "LONGTEXT" };
            const length = String(this.options.length || "").toLowerCase();
            return dialect === "mysql" && sizes[length] ? sizes[length] : "TEXT";
        }
    }
    TEXT.prototype.key = "TEXT";

    // The numbers: a length (and decimals), UNSIGNED and ZEROFILL, which
    // only MySQL writes; PostgreSQL's integers take none of them.
    class NUMBER extends ABSTRACT {
        constructor(length, decimals) {
            super();
            this.options = options(length, { length, decimals });
        }
        get UNSIGNED() {
            this.options.unsigned = true;
            return this;
        }
        get ZEROFILL() {
            this.options.zerofill = true;
            return this;
        }
        static get UNSIGNED() {
            return new this().UNSIGNED;
        }
        static get ZEROFILL() {
            return new this().ZEROFILL;
        }
        toSql() {
            const { length, decimals, unsigned, zerofill } = this.options;
            if (dialect === "postgres" && this.integer) {
                return this.key;
            }
            let sql = this.key;
            if (length) {
                sql += `(${length}${typeof decimals === "number" ? `,${decimals}` : ""})`;
            }
            if (dialect === "mysql") {
                sql += `${unsigned ? " UNSIGNED" : ""}${zerofill ? " ZEROFILL" : ""}`;
            }
            return sql;
        }
    }
    const number = (key, integer) => {
        const Type = class extends NUMBER {};
        Type.prototype.key = key;
        Type.prototype.integer = integer;
        Object.defineProperty(Type, "name", { value: key.split(" ")[0] });
        return Type;
    };

    class DECIMAL extends NUMBER {
        constructor(precision, scale) {
            super();
            this.options = options(precision, { precision, scale });
        }
        toSql() {
            const { precision, scale } = this.options;
            if (precision || scale) {
                return `DECIMAL(${[precision, scale].filter(Boolean).join(",")})`;
            }
            return "DECIMAL";
        }
    }
    DECIMAL.prototype.key = "DECIMAL";

    class BOOLEAN extends ABSTRACT {
        toSql() {
            return dialect === "postgres" ? "BOOLEAN" : "TINYINT(1)";
        }
    }
    BOOLEAN.prototype.key = "BOOLEAN";

    class DATE extends ABSTRACT {
        constructor(length) {
            super();
            this.options = options(length, { length });
        }
        toSql() {
            if (dialect === "postgres") {
                return "TIMESTAMP WITH TIME ZONE";
            }
            const length = this.options.length;
            return dialect === "mysql" && length ? `DATETIME(${length})` : "DATETIME";
        }
    }
    DATE.prototype.key = "DATE";

    const named = (key, sql) => {
        const Type = class extends ABSTRACT {
            toSql() {
                return sql[dialect] ?? sql.default;
            }
        };
        Type.prototype.key = key;
        Object.defineProperty(Type, "name", { value: key });
        return Type;
    };

    class BLOB extends ABSTRACT {
        constructor(length) {
            super();
            this.options = options(length, { length });
        }
        toSql() {
            const sizes = { tiny: "TINYBLOB", medium: "MEDIUMBLOB", long: "LONGBLOB" };
            const length = String(this.options.length || "").toLowerCase();
            if (dialect === "postgres") {
                return "BYTEA";
            }
            return dialect === "mysql" && sizes[length] ? sizes[length] : "BLOB";
        }
    }
    BLOB.prototype.key = "BLOB";

    class ENUM extends ABSTRACT {
        constructor(...args) {
            super();
            const first = args[0];
            this.values =
                typeof first === "object" && !Array.isArray(first)
                    ? first.values
                    : args.reduce((all, value) => all.concat(value), []);
        }
        toSql() {
            return dialect === "sqlite" ? "TEXT" : "ENUM";
        }
    }
    ENUM.prototype.key = "ENUM";

    // Default values computed by Sequelize in JavaScript: never a column
    // default.
    const marker = (key) => {
        const Type = class extends ABSTRACT {};
        Type.prototype.key = key;
        Type.prototype.clientSide = true;
        Object.defineProperty(Type, "name", { value: key });
        return Type;
    };

    const types = {
        STRING,
        CHAR,
        TEXT,
        INTEGER: number("INTEGER", true),
        BIGINT: number("BIGINT", true),
        SMALLINT: number("SMALLINT", true),
        MEDIUMINT: number("MEDIUMINT", true),
        TINYINT: number("TINYINT", true),
        FLOAT: number("FLOAT", false),
        REAL: number("REAL", false),
        DOUBLE: number("DOUBLE PRECISION", false),
        DECIMAL,
        BOOLEAN,
        DATE,
        DATEONLY: named("DATEONLY", { default: "DATE" }),
        TIME: named("TIME", { default: "TIME" }),
        UUID: named("UUID", { mysql: "CHAR(36) BINARY", default: "UUID" }),
        JSON: named("JSON", { default: "JSON" }),
        BLOB,
        ENUM,
        NOW: marker("NOW"),
        UUIDV1: marker("UUIDV1"),
        UUIDV4: marker("UUIDV4"),
    };
    if (dialect === "postgres") {
        types.JSONB = named("JSONB", { default: "JSONB" });
    }
    const invokables = {};
    for (const [name, Type] of Object.entries(types)) {
        invokables[name] = invokable(Type);
    }
    // `DOUBLE PRECISION` is also `Sequelize.DOUBLE`'s other name.
    invokables["DOUBLE PRECISION"] = invokables.DOUBLE;
    return { types: invokables, ABSTRACT };
});
