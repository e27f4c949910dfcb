//! `accord user add` and `accord token create|list|revoke`: accounts and
//! API tokens, from the machine that holds the database.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use accord_domain::people::Role;
use accord_service::auth::NewUser;
use accord_service::{Caller, Service, SystemClock};
use anyhow::Result;
use clap::Subcommand;

use crate::config::Config;
use crate::db;

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create an account, or give an existing (imported) person a password.
    /// Without --password-stdin a password is generated and printed once.
    Add {
        /// Their email address.
        #[arg(long)]
        email: String,
        /// Their role: pm, pm_lead, sales_rep, sales_manager, sales_engineer,
        /// admin or constituent (required for a new person).
        #[arg(long)]
        role: Option<Role>,
        /// Their name (for a new person).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create an API token for a person; the secret is printed once.
    Create {
        /// Whose token (their email).
        #[arg(long)]
        user: String,
        /// A label for it.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke {
        /// The token's id.
        id: uuid::Uuid,
    },
}

async fn service(cfg: &Config) -> Result<Service> {
    let db = db::open(&cfg.database_url).await?;
    Ok(Service::open(db.store, Arc::new(SystemClock), cfg.settings()).await?)
}

pub(crate) async fn user(cmd: UserCommand, cfg: &Config) -> Result<ExitCode> {
    match cmd {
        UserCommand::Add {
            email,
            role,
            name,
            password_stdin,
        } => {
            let password = if password_stdin {
                if std::io::stdin().is_terminal() {
                    eprint!("password: ");
                }
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let svc = service(cfg).await?;
            let (p, generated) = svc
                .add_user(
                    &Caller::Local("cli"),
                    NewUser {
                        email,
                        name,
                        role,
                        password,
                    },
                )
                .await?;
            println!("{} ({}) can sign in", p.email, p.role);
            if let Some(g) = generated {
                println!("password: {g}");
                println!("(shown once: store it now)");
            }
            svc.store().close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) async fn token(cmd: TokenCommand, cfg: &Config) -> Result<ExitCode> {
    let svc = service(cfg).await?;
    let caller = Caller::Local("cli");
    match cmd {
        TokenCommand::Create { user, name } => {
            let (t, secret) = svc.create_token(&caller, &user, &name).await?;
            println!("token {} for {user} ({})", t.id, t.name);
            println!("{secret}");
            eprintln!("(shown once: send it as `Authorization: Bearer <token>`)");
        }
        TokenCommand::List => {
            for t in svc.list_tokens(&caller).await? {
                let state = match t.revoked_at {
                    Some(r) => format!("revoked {}", r.format("%Y-%m-%d")),
                    None => "active".into(),
                };
                println!(
                    "{}  {:<12} {}  created {}",
                    t.id,
                    t.name,
                    state,
                    t.created_at.format("%Y-%m-%d %H:%M")
                );
            }
        }
        TokenCommand::Revoke { id } => {
            svc.revoke_token(&caller, id).await?;
            println!("token {id} revoked");
        }
    }
    svc.store().close().await;
    Ok(ExitCode::SUCCESS)
}
