//! Configuration: defaults, then a TOML file, then `SECOPS_*` environment variables. Secrets that are not
//! configured are generated on first run and stored under the data directory, so restarts keep tokens valid
//! and credentials decryptable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secops_store::crypto::SecretKey;
use serde::Deserialize;

/// Configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("invalid configuration in {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is invalid.
    #[error("invalid {name}: {message}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Generated secrets could not be stored.
    #[error("cannot store generated secrets in {path}: {source}")]
    Secrets {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The file format; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    allow_registration: Option<bool>,
    cors_origins: Option<Vec<String>>,
    max_body_bytes: Option<usize>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    jwt_key: Option<String>,
    hmac_key: Option<String>,
    encryption_key: Option<String>,
    run_worker: Option<bool>,
    worker_concurrency: Option<u32>,
    max_attachment_bytes: Option<usize>,
    attachment_types: Option<Vec<String>>,
    public_url: Option<String>,
    sso_allow_insecure_issuers: Option<bool>,
    tool_egress_allowable: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    invitation_domains: Option<Vec<String>>,
}

/// Media types accepted for chat attachments unless configured otherwise: text, logs, structured data, PDFs
/// and screenshots, which are what analysts attach to an investigation.
pub const DEFAULT_ATTACHMENT_TYPES: &[&str] = &[
    "text/plain",
    "text/csv",
    "application/json",
    "application/x-ndjson",
    "application/pdf",
    "image/png",
    "image/jpeg",
];

/// The server's secrets. `Debug` shows none of them.
#[derive(Clone)]
pub struct Secrets {
    /// Signs access tokens (HS256).
    pub jwt: SecretKey,
    /// Keys the HMAC digests of API keys, refresh tokens and invitations.
    pub hmac: SecretKey,
    /// Encrypts tool credentials.
    pub encryption: SecretKey,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([REDACTED])")
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// Where the embedded database, attachments and generated secrets live.
    pub data_dir: PathBuf,
    /// Whether anyone may register a new organisation.
    pub allow_registration: bool,
    /// Origins allowed by CORS (none by default).
    pub cors_origins: Vec<String>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Access-token lifetime in seconds.
    pub access_token_ttl_secs: u64,
    /// Refresh-token lifetime in seconds.
    pub refresh_token_ttl_secs: u64,
    /// The address clients reach this server at, without a trailing slash (`SECOPS_PUBLIC_URL`, default
    /// `http://{listen}`). Single sign-on builds the callback URL it registers with identity providers from it.
    pub public_url: String,
    /// Accept `http://` identity-provider URLs and providers on loopback or private addresses
    /// (`SECOPS_SSO_ALLOW_INSECURE_ISSUERS`, default false). Only for
    /// tests and local development: an organisation admin chooses the issuer and the server fetches from it, so
    /// plain HTTP would let it reach internal services and let anyone on the path forge logins.
    pub sso_allow_insecure_issuers: bool,
    /// Keys.
    pub secrets: Secrets,
    /// Whether this process drives runs (`serve --no-worker` turns it off; `secops worker` drives only runs).
    pub run_worker: bool,
    /// Runs one worker drives at once.
    pub worker_concurrency: u32,
    /// Largest chat attachment.
    pub max_attachment_bytes: usize,
    /// Media types accepted for chat attachments.
    pub attachment_types: Vec<String>,
    /// The private, loopback or link-local ranges an organisation may open to its tools
    /// (`SECOPS_TOOL_EGRESS_ALLOWABLE`, comma-separated CIDR; none by default). Every range a tool
    /// configuration allow-lists must lie inside one of these. On a shared server this keeps one tenant's tools
    /// out of the operator's own network; a team running its own server lists where its SIEM and EDR live.
    pub tool_egress_allowable: Vec<ipnet::IpNet>,
    /// The proxies whose forwarding headers (`Forwarded`, `X-Forwarded-For`) are believed
    /// (`SECOPS_TRUSTED_PROXIES`, comma-separated CIDR; none by default). Without one, the client's address
    /// is the socket's peer, whatever a client writes in those headers; see [`crate::origin`].
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Domains whose every address the operator vouches for (`SECOPS_INVITATION_DOMAINS`, comma-separated;
    /// none by default). An invitation addressed to one of them may be accepted by any account with an
    /// address at the same domain, not only by the address invited. Refused while open registration is on,
    /// since anyone could then register an address at that domain.
    pub invitation_domains: Vec<String>,
}

fn key(name: &'static str, hex: &str) -> Result<SecretKey, ConfigError> {
    SecretKey::from_hex(hex).map_err(|e| ConfigError::Invalid {
        name,
        message: e.to_string(),
    })
}

impl Config {
    /// Loads from `file` (if given) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, |name| std::env::var(name).ok())
    }

    /// Loads from `file` and the variables `env` returns (testable without touching the process environment).
    pub fn load_from(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let fc: FileConfig = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let parse_bool = |name: &'static str, v: String| match v.as_str() {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            other => Err(ConfigError::Invalid {
                name,
                message: format!("`{other}` is not true or false"),
            }),
        };
        let parse_num = |name: &'static str, v: String| {
            v.parse::<u64>().map_err(|_| ConfigError::Invalid {
                name,
                message: format!("`{v}` is not a number"),
            })
        };

        let listen = var("SECOPS_LISTEN")
            .or(fc.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen.parse().map_err(|_| ConfigError::Invalid {
            name: "listen",
            message: format!("`{listen}` is not host:port"),
        })?;
        let data_dir = var("SECOPS_DATA_DIR")
            .map(PathBuf::from)
            .or(fc.data_dir)
            .unwrap_or_else(|| PathBuf::from("./secops-data"));
        let database_url = var("SECOPS_DATABASE_URL")
            .or(fc.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("secops.db").display()));
        let allow_registration = match var("SECOPS_ALLOW_REGISTRATION") {
            Some(v) => parse_bool("SECOPS_ALLOW_REGISTRATION", v)?,
            None => fc.allow_registration.unwrap_or(true),
        };
        let cors_origins = match var("SECOPS_CORS_ORIGINS") {
            Some(v) => v
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            None => fc.cors_origins.unwrap_or_default(),
        };
        let max_body_bytes = match var("SECOPS_MAX_BODY_BYTES") {
            Some(v) => usize::try_from(parse_num("SECOPS_MAX_BODY_BYTES", v)?).unwrap_or(usize::MAX),
            None => fc.max_body_bytes.unwrap_or(1024 * 1024),
        };
        let access_token_ttl_secs = match var("SECOPS_ACCESS_TOKEN_TTL_SECS") {
            Some(v) => parse_num("SECOPS_ACCESS_TOKEN_TTL_SECS", v)?,
            None => fc.access_token_ttl_secs.unwrap_or(900),
        };
        let refresh_token_ttl_secs = match var("SECOPS_REFRESH_TOKEN_TTL_SECS") {
            Some(v) => parse_num("SECOPS_REFRESH_TOKEN_TTL_SECS", v)?,
            None => fc.refresh_token_ttl_secs.unwrap_or(30 * 24 * 3600),
        };
        let public_url = var("SECOPS_PUBLIC_URL")
            .or(fc.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let public_url = public_url.trim().trim_end_matches('/').to_owned();
        if !(public_url.starts_with("https://") || public_url.starts_with("http://"))
            || public_url.contains(['?', '#'])
        {
            return Err(ConfigError::Invalid {
                name: "public_url",
                message: format!("`{public_url}` is not an http(s) URL without query or fragment"),
            });
        }
        let sso_allow_insecure_issuers = match var("SECOPS_SSO_ALLOW_INSECURE_ISSUERS") {
            Some(v) => parse_bool("SECOPS_SSO_ALLOW_INSECURE_ISSUERS", v)?,
            None => fc.sso_allow_insecure_issuers.unwrap_or(false),
        };
        let configured = (
            var("SECOPS_JWT_KEY").or(fc.jwt_key),
            var("SECOPS_HMAC_KEY").or(fc.hmac_key),
            var("SECOPS_ENCRYPTION_KEY").or(fc.encryption_key),
        );
        let secrets = Self::secrets(&data_dir, configured)?;
        let run_worker = match var("SECOPS_RUN_WORKER") {
            Some(v) => parse_bool("SECOPS_RUN_WORKER", v)?,
            None => fc.run_worker.unwrap_or(true),
        };
        let worker_concurrency = match var("SECOPS_WORKER_CONCURRENCY") {
            Some(v) => u32::try_from(parse_num("SECOPS_WORKER_CONCURRENCY", v)?).unwrap_or(u32::MAX),
            None => fc.worker_concurrency.unwrap_or(32),
        };
        if worker_concurrency == 0 {
            return Err(ConfigError::Invalid {
                name: "worker_concurrency",
                message: "must be at least 1".into(),
            });
        }
        let max_attachment_bytes = match var("SECOPS_MAX_ATTACHMENT_BYTES") {
            Some(v) => usize::try_from(parse_num("SECOPS_MAX_ATTACHMENT_BYTES", v)?).unwrap_or(usize::MAX),
            None => fc.max_attachment_bytes.unwrap_or(10 * 1024 * 1024),
        };
        let attachment_types = match var("SECOPS_ATTACHMENT_TYPES") {
            Some(v) => v
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect(),
            None => fc
                .attachment_types
                .unwrap_or_else(|| DEFAULT_ATTACHMENT_TYPES.iter().map(|t| (*t).to_owned()).collect()),
        };
        let list = |name: &str, from_file: Option<Vec<String>>| -> Vec<String> {
            match var(name) {
                Some(v) => v
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
                None => from_file.unwrap_or_default(),
            }
        };
        let ranges = |name: &'static str, items: Vec<String>| {
            items
                .iter()
                .map(|s| {
                    s.parse::<ipnet::IpNet>()
                        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| ConfigError::Invalid {
                            name,
                            message: format!("`{s}` is not a CIDR range like 10.0.0.0/8"),
                        })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let tool_egress_allowable = ranges(
            "tool_egress_allowable",
            list("SECOPS_TOOL_EGRESS_ALLOWABLE", fc.tool_egress_allowable),
        )?;
        let trusted_proxies = ranges(
            "trusted_proxies",
            list("SECOPS_TRUSTED_PROXIES", fc.trusted_proxies),
        )?;
        let invitation_domains: Vec<String> = list("SECOPS_INVITATION_DOMAINS", fc.invitation_domains)
            .iter()
            .map(|d| d.trim_start_matches('@').to_lowercase())
            .collect();
        if let Some(bad) = invitation_domains
            .iter()
            .find(|d| d.is_empty() || d.contains(['@', '/', ' ']) || !d.contains('.'))
        {
            return Err(ConfigError::Invalid {
                name: "invitation_domains",
                message: format!("`{bad}` is not a domain like example.com"),
            });
        }
        if !invitation_domains.is_empty() && allow_registration {
            return Err(ConfigError::Invalid {
                name: "invitation_domains",
                message: "needs registration off (SECOPS_ALLOW_REGISTRATION=false): with open registration \
                          anyone can sign up with an address at those domains"
                    .into(),
            });
        }
        Ok(Self {
            listen,
            database_url,
            data_dir,
            allow_registration,
            cors_origins,
            max_body_bytes,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            public_url,
            sso_allow_insecure_issuers,
            secrets,
            run_worker,
            worker_concurrency,
            max_attachment_bytes,
            attachment_types,
            tool_egress_allowable,
            trusted_proxies,
            invitation_domains,
        })
    }

    /// Configured keys win; missing ones come from `data_dir/secrets.toml`, which is created (mode 0600) with new
    /// random keys on first run.
    fn secrets(
        data_dir: &Path,
        configured: (Option<String>, Option<String>, Option<String>),
    ) -> Result<Secrets, ConfigError> {
        #[derive(Deserialize, serde::Serialize, Default)]
        struct Stored {
            jwt_key: Option<String>,
            hmac_key: Option<String>,
            encryption_key: Option<String>,
        }
        let path = data_dir.join("secrets.toml");
        let mut stored: Stored = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?,
            Err(_) => Stored::default(),
        };
        let mut changed = false;
        let generate = |slot: &mut Option<String>, changed: &mut bool| -> Result<(), ConfigError> {
            if slot.is_none() {
                let k = SecretKey::generate().map_err(|e| ConfigError::Invalid {
                    name: "secrets",
                    message: e.to_string(),
                })?;
                *slot = Some(k.to_hex());
                *changed = true;
            }
            Ok(())
        };
        if configured.0.is_none() {
            generate(&mut stored.jwt_key, &mut changed)?;
        }
        if configured.1.is_none() {
            generate(&mut stored.hmac_key, &mut changed)?;
        }
        if configured.2.is_none() {
            generate(&mut stored.encryption_key, &mut changed)?;
        }
        if changed {
            std::fs::create_dir_all(data_dir).map_err(|source| ConfigError::Secrets {
                path: path.clone(),
                source,
            })?;
            let text = toml::to_string(&stored).map_err(|e| ConfigError::Invalid {
                name: "secrets",
                message: e.to_string(),
            })?;
            write_private(&path, &text).map_err(|source| ConfigError::Secrets {
                path: path.clone(),
                source,
            })?;
        }
        let pick = |name: &'static str,
                    configured: Option<String>,
                    stored: Option<String>|
         -> Result<SecretKey, ConfigError> {
            key(name, configured.or(stored).as_deref().unwrap_or_default())
        };
        Ok(Secrets {
            jwt: pick("jwt_key", configured.0, stored.jwt_key)?,
            hmac: pick("hmac_key", configured.1, stored.hmac_key)?,
            encryption: pick("encryption_key", configured.2, stored.encryption_key)?,
        })
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        std::env::temp_dir().join(format!("secops-config-{}", uuid::Uuid::now_v7().simple()))
    }

    #[test]
    fn env_overrides_file_and_secrets_persist() {
        let d = dir();
        std::fs::create_dir_all(&d).unwrap();
        let file = d.join("secops.toml");
        std::fs::write(
            &file,
            format!(
                "listen = \"127.0.0.1:9000\"\ndata_dir = \"{}\"\nallow_registration = false\n",
                d.display()
            ),
        )
        .unwrap();
        let env = |name: &str| (name == "SECOPS_LISTEN").then(|| "127.0.0.1:9100".to_owned());
        let a = Config::load_from(Some(&file), env).unwrap();
        assert_eq!(a.listen.port(), 9100);
        assert!(!a.allow_registration);
        assert!(a.database_url.starts_with("sqlite://"));
        assert_eq!(a.public_url, "http://127.0.0.1:9100");
        assert!(!a.sso_allow_insecure_issuers);
        let b = Config::load_from(Some(&file), env).unwrap();
        assert_eq!(
            a.secrets.jwt.to_hex(),
            b.secrets.jwt.to_hex(),
            "generated once, then reused"
        );
        assert!(!format!("{a:?}").contains(&a.secrets.jwt.to_hex()));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn bad_values_are_named() {
        let d = dir();
        let env = |name: &str| match name {
            "SECOPS_DATA_DIR" => Some(d.display().to_string()),
            "SECOPS_LISTEN" => Some("nowhere".to_owned()),
            _ => None,
        };
        assert!(matches!(
            Config::load_from(None, env),
            Err(ConfigError::Invalid { name: "listen", .. })
        ));
        let env = |name: &str| match name {
            "SECOPS_DATA_DIR" => Some(d.display().to_string()),
            "SECOPS_PUBLIC_URL" => Some("ftp://secops.example".to_owned()),
            _ => None,
        };
        assert!(matches!(
            Config::load_from(None, env),
            Err(ConfigError::Invalid {
                name: "public_url",
                ..
            })
        ));
        let file = std::env::temp_dir().join(format!("secops-bad-{}.toml", uuid::Uuid::now_v7().simple()));
        std::fs::write(&file, "listen = 5\nunknown = 1\n").unwrap();
        assert!(matches!(
            Config::load_from(Some(&file), |_| None),
            Err(ConfigError::Parse { .. })
        ));
        std::fs::remove_file(file).unwrap();
        let _ = std::fs::remove_dir_all(&d);
    }
}
