//! A fleet's tenants: listed from their source, placed on their server (or
//! SQLite file), narrowed to `--tenant` keys and to a shard.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::config::fleet::{self, CatalogQuery, Fleet, TenantSource};
use crate::db::{ConnectionString, Database, Server, Value};
use crate::failure::{Failure, Outcome};
use crate::provider::Provider;
use crate::workflow::environment;

/// One tenant, as its source lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tenant {
    pub key: String,
    /// The server it is on, by its name in `fleet.servers`; none: the
    /// environment's own.
    pub server: Option<String>,
}

/// `--shard I/N`: the tenants whose key hashes to `I` of `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let fail = || format!("{text:?} is not I/N with 0 <= I < N (e.g. 0/4)");
        let (index, count) = text.split_once('/').ok_or_else(fail)?;
        let index: u32 = index.trim().parse().map_err(|_| fail())?;
        let count: u32 = count.trim().parse().map_err(|_| fail())?;
        if count == 0 || index >= count {
            return Err(fail());
        }
        Ok(Shard { index, count })
    }

    /// Stable across runs, machines and versions: the key's SHA-256, not
    /// the standard library's seeded hasher.
    pub fn holds(&self, key: &str) -> bool {
        let digest = Sha256::digest(key.as_bytes());
        let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        head % u64::from(self.count) == u64::from(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Where a fleet's tenants live: the environment's server, or the named
/// servers, each from its variable.
pub struct Placement {
    provider: Provider,
    dir: std::path::PathBuf,
    fleet: Fleet,
    /// By server name; `None` for the environment's own.
    servers: BTreeMap<Option<String>, ConnectionString>,
}

impl Placement {
    /// Reads the servers' connection strings; SQLite file fleets need none.
    pub fn settle(
        dir: &Path,
        config: &Config,
        environment: &str,
        fleet: &Fleet,
    ) -> Outcome<Placement> {
        fleet.check(environment)?;
        let provider = config.database.provider;
        let sqlite = provider == Provider::Sqlite;
        let misfit = |what: &str, fix: &str| {
            Err(Failure::new(format!(
                "Fleet environment '{environment}' does not fit the project's provider, {provider}"
            ))
            .cause(what.to_owned())
            .help(fix.to_owned()))
        };
        match (&fleet.tenants, sqlite) {
            (TenantSource::SqliteFiles(_), false) => {
                return misfit(
                    "sqlite_files lists SQLite files",
                    "List the server's databases with databases_like, a file or a query",
                );
            }
            (TenantSource::DatabasesLike(_), true) => {
                return misfit(
                    "databases_like lists a server's databases; a SQLite fleet's are its files",
                    "List the tenants' files: \"tenants\": {\"sqlite_files\": \"tenants/*.db\"}",
                );
            }
            (TenantSource::File(_) | TenantSource::Query(_), true) if fleet.database.is_none() => {
                return misfit(
                    "a SQLite fleet listed in a file or a catalog needs the path of each tenant's file",
                    "Add the path, relative to the project: \"database\": \"tenants/{tenant}.db\"",
                );
            }
            _ => {}
        }
        let mut servers = BTreeMap::new();
        if !sqlite && fleet.servers.is_empty() {
            let own = environment::find(config, environment)?
                .connection_string_env
                .clone();
            let target =
                environment::connection_string(dir, config, own.as_deref())?.ok_or_else(|| {
                    environment::no_connection_string(dir, config, environment, own.as_deref())
                })?;
            servers.insert(None, target);
        }
        for (name, variable) in fleet.servers.iter().filter(|_| !sqlite) {
            let target =
                environment::connection_string(dir, config, Some(variable))?.ok_or_else(|| {
                    environment::no_connection_string(dir, config, environment, Some(variable))
                        .cause(format!("the fleet's server {name} is reached through it"))
                })?;
            servers.insert(Some(name.clone()), target);
        }
        Ok(Placement {
            provider,
            dir: dir.to_path_buf(),
            fleet: fleet.clone(),
            servers,
        })
    }

    /// The servers the fleet's tenants are on, by name (none: the
    /// environment's own).
    pub fn servers(&self) -> impl Iterator<Item = (&Option<String>, &ConnectionString)> {
        self.servers.iter()
    }

    /// The tenant's database, as a connection string naming it; an error
    /// for a key that cannot name one or a server that is not configured.
    pub fn target(&self, tenant: &Tenant) -> Result<ConnectionString, Failure> {
        fleet::check_key(&tenant.key).map_err(|why| {
            Failure::new(format!("Tenant {:?} cannot be placed", tenant.key))
                .cause(why)
                .help("Fix the key in the fleet's tenant source")
        })?;
        let database = self.fleet.database_of(&tenant.key);
        if self.provider == Provider::Sqlite {
            return ConnectionString::parse(
                &format!("file:{database}"),
                "the fleet's template",
                &self.dir,
            );
        }
        let server = self.servers.get(&tenant.server).ok_or_else(|| match &tenant.server {
            Some(named) => Failure::new(format!(
                "Tenant {} is on server {named}, which the fleet does not name",
                tenant.key
            ))
            .help(format!(
                "Add it to the fleet's \"servers\" with the variable holding its connection string, e.g. \"{named}\": \"FLEET_{}_URL\"",
                named.to_uppercase()
            )),
            None => Failure::new(format!(
                "Tenant {} names no server, and the fleet is spread over several",
                tenant.key
            ))
            .help("List it in the fleet's tenant source with its server (a file's second word, a query's second column), then run the command again"),
        })?;
        crate::names::validate(&database)?;
        Ok(server.with_database(&database))
    }

    /// Every tenant the source lists, in key order. A key listed twice on
    /// one server counts once; on two servers it is refused, as no one can
    /// say which database is the tenant's.
    pub async fn list(&self) -> Outcome<Vec<Tenant>> {
        let tenants = match &self.fleet.tenants {
            TenantSource::DatabasesLike(_) => self.databases_like().await?,
            TenantSource::SqliteFiles(pattern) => self.sqlite_files(pattern)?,
            TenantSource::File(path) => self.listed_in(path)?,
            TenantSource::Query(query) => self.in_catalog(query).await?,
        };
        once_each(tenants)
    }

    async fn databases_like(&self) -> Outcome<Vec<Tenant>> {
        let mut tenants = Vec::new();
        for (name, target) in &self.servers {
            let mut server = Server::connect(target).await?;
            let listed = server.list_databases().await.map_err(|err| {
                Failure::new("Cannot list the fleet's databases").cause(err.message)
            })?;
            tenants.extend(listed.iter().filter_map(|database| {
                self.fleet.key_of(database).map(|key| Tenant {
                    key: key.to_owned(),
                    server: name.clone(),
                })
            }));
        }
        Ok(tenants)
    }

    fn sqlite_files(&self, pattern: &str) -> Outcome<Vec<Tenant>> {
        let (folder, _) = pattern.rsplit_once('/').unwrap_or((".", pattern));
        let folder_path = self.dir.join(folder);
        let entries = match std::fs::read_dir(&folder_path) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => {
                return Err(
                    Failure::new(format!("Cannot list {}", folder_path.display())).cause(err),
                );
            }
        };
        Ok(entries
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
            .filter_map(|entry| {
                let file = entry.file_name().into_string().ok()?;
                let relative = match folder {
                    "." => file,
                    folder => format!("{folder}/{file}"),
                };
                self.fleet.key_of(&relative).map(|key| Tenant {
                    key: key.to_owned(),
                    server: None,
                })
            })
            .collect())
    }

    fn listed_in(&self, path: &str) -> Outcome<Vec<Tenant>> {
        let file = self.dir.join(path);
        let text = std::fs::read_to_string(&file).map_err(|err| {
            Failure::new(format!(
                "Cannot read the fleet's tenant list {}",
                file.display()
            ))
            .cause(err)
            .help("Create it with one tenant key per line, or fix fleet.tenants.file")
        })?;
        Ok(text
            .lines()
            .map(|line| line.split('#').next().unwrap_or_default())
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let key = words.next()?;
                Some(Tenant {
                    key: key.to_owned(),
                    server: words.next().map(str::to_owned),
                })
            })
            .collect())
    }

    /// The catalog is read in a read-only transaction (SQLite: a
    /// query-only session): the database itself keeps the query from
    /// changing anything.
    async fn in_catalog(&self, query: &CatalogQuery) -> Outcome<Vec<Tenant>> {
        let variable = query.url_env.as_str();
        let raw = crate::dotenv::var(&self.dir, variable)?
            .map(|(raw, _)| raw)
            .filter(|raw| !raw.trim().is_empty())
            .ok_or_else(|| {
                Failure::new(format!("{variable} environment variable not set"))
                    .cause("the fleet's catalog query reads the tenant keys from that database")
                    .help(format!("Set it to the catalog's connection string: export {variable}=\"postgresql://user:password@host:5432/catalog\""))
            })?;
        let catalog = ConnectionString::parse(&raw, variable, &self.dir)?;
        let unreadable = |err: crate::db::SqlError| {
            Failure::new("Cannot read the fleet's tenants from its catalog")
                .cause(err.message)
                .help("Check fleet.tenants.query.sql: it must be one SELECT whose first column is the tenant key")
        };
        let mut database = Database::connect(&catalog).await.map_err(unreadable)?;
        let begin = match catalog.provider() {
            Provider::Postgresql => "BEGIN READ ONLY",
            Provider::Mysql => "START TRANSACTION READ ONLY",
            Provider::Sqlite => "PRAGMA query_only = ON",
        };
        database.execute(begin, &[]).await.map_err(unreadable)?;
        let rows = database.query(&query.sql, &[]).await.map_err(unreadable)?;
        let text = |value: Option<&Value>| match value {
            Some(Value::Text(text)) => Some(text.clone()),
            Some(Value::Integer(number)) => Some(number.to_string()),
            _ => None,
        };
        Ok(rows
            .rows
            .iter()
            .filter_map(|row| {
                Some(Tenant {
                    key: text(row.first())?,
                    server: text(row.get(1)),
                })
            })
            .collect())
    }
}

fn once_each(mut tenants: Vec<Tenant>) -> Outcome<Vec<Tenant>> {
    tenants.sort();
    tenants.dedup();
    if let Some(pair) = tenants.windows(2).find(|pair| pair[0].key == pair[1].key) {
        let on = |tenant: &Tenant| tenant.server.clone().unwrap_or_else(|| "(none)".to_owned());
        return Err(Failure::new(format!(
            "Tenant {} is listed on two servers, {} and {}",
            pair[0].key,
            on(&pair[0]),
            on(&pair[1])
        ))
        .cause("a tenant is one database: which of the two is it is not known")
        .help("Remove the one that is not the tenant's from the fleet's tenant source (or rename it out of the fleet's pattern)"));
    }
    Ok(tenants)
}

/// What `--tenant` and `--shard` leave of the listed tenants. A named
/// tenant the source does not list is an error naming it when
/// `listed_only` (a typo must not quietly migrate nothing); `init` takes
/// it as a new tenant.
pub fn select(
    listed: Vec<Tenant>,
    keys: &[String],
    shard: Option<Shard>,
    listed_only: bool,
) -> Outcome<Vec<Tenant>> {
    let mut selected =
        if keys.is_empty() {
            listed
        } else if !listed_only {
            let mut chosen: Vec<Tenant> = listed
                .into_iter()
                .filter(|tenant| keys.contains(&tenant.key))
                .collect();
            for key in keys {
                if !chosen.iter().any(|tenant| &tenant.key == key) {
                    chosen.push(Tenant {
                        key: key.clone(),
                        server: None,
                    });
                }
            }
            chosen
        } else {
            let unknown: Vec<&String> = keys
                .iter()
                .filter(|key| !listed.iter().any(|tenant| &tenant.key == *key))
                .collect();
            if !unknown.is_empty() {
                let names: Vec<&str> = unknown.iter().map(|key| key.as_str()).collect();
                return Err(Failure::new(format!("Unknown tenant(s): {}", names.join(", ")))
                .cause("the fleet's tenant source does not list them")
                .help("Add a new tenant's database first: faber-db init ENVIRONMENT --tenant KEY"));
            }
            listed
                .into_iter()
                .filter(|tenant| keys.contains(&tenant.key))
                .collect()
        };
    if let Some(shard) = shard {
        selected.retain(|tenant| shard.holds(&tenant.key));
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_cover_everything_and_stay_put() {
        let keys: Vec<String> = (0..1000).map(|i| format!("t{i}")).collect();
        let shards: Vec<Shard> = (0..4).map(|index| Shard { index, count: 4 }).collect();
        for key in &keys {
            assert_eq!(shards.iter().filter(|shard| shard.holds(key)).count(), 1);
        }
        let sizes: Vec<usize> = shards
            .iter()
            .map(|shard| keys.iter().filter(|key| shard.holds(key)).count())
            .collect();
        assert!(
            sizes.iter().all(|size| (200..300).contains(size)),
            "{sizes:?}"
        );
        // The same key in the same shard, as the hash is fixed.
        assert!(
            Shard { index: 0, count: 4 }.holds("t0") == Shard::parse("0/4").unwrap().holds("t0")
        );
    }

    #[test]
    fn a_shard_is_i_of_n() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        for bad in ["4/4", "1", "a/b", "0/0", "-1/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tenant_on_two_servers_is_refused_and_a_repeated_one_counts_once() {
        let on = |key: &str, server: &str| Tenant {
            key: key.into(),
            server: Some(server.into()),
        };
        let once = once_each(vec![on("a", "eu"), on("b", "eu"), on("a", "eu")]).unwrap();
        assert_eq!(once, [on("a", "eu"), on("b", "eu")]);
        let failure = once_each(vec![on("a", "eu"), on("a", "us")]).unwrap_err();
        assert_eq!(
            failure.error,
            "Tenant a is listed on two servers, eu and us"
        );
    }

    #[test]
    fn a_named_tenant_must_be_listed() {
        let listed = vec![Tenant {
            key: "a".into(),
            server: None,
        }];
        assert!(select(listed.clone(), &["b".into()], None, true).is_err());
        assert_eq!(
            select(listed.clone(), &["b".into()], None, false)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(select(listed, &["a".into()], None, true).unwrap().len(), 1);
    }
}
