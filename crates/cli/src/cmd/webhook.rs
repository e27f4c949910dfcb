//! `accord webhook add|list|remove|test|deliveries|redeliver`: webhook
//! subscriptions and their deliveries, from the machine that holds the
//! database (as an admin would through the API).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use accord_server::HttpTransport;
use accord_service::webhooks::NewWebhook;
use accord_service::{Caller, Service, ServiceError, SystemClock};
use accord_store::{DeliveryState, PageRequest};
use anyhow::Result;
use clap::Subcommand;

use crate::config::Config;
use crate::db;

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Register a subscription. Its signing secret is generated (or read
    /// with --secret-stdin) and printed once.
    Add {
        /// Where to POST events: an http or https URL.
        #[arg(long)]
        url: String,
        /// The event types, comma-separated (request.created,alert.opened),
        /// or * for all.
        #[arg(long, value_delimiter = ',', default_value = "*")]
        events: Vec<String>,
        /// json (the signed envelope) or slack ({"text": ...}).
        #[arg(long, default_value = "json")]
        format: String,
        /// Read the signing secret from standard input (one line) instead
        /// of generating one.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// List subscriptions (never their secrets).
    List,
    /// Remove a subscription; its pending deliveries are dropped.
    Remove {
        /// The subscription's id.
        id: uuid::Uuid,
    },
    /// Send a signed ping now and print the receiver's answer (exit 1 when
    /// it is not a 2xx).
    Test {
        /// The subscription's id.
        id: uuid::Uuid,
    },
    /// List deliveries, newest first.
    Deliveries {
        /// Only the dead ones (given up on; redeliver them).
        #[arg(long)]
        dead: bool,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Put a delivery back in the queue, due now (a running `accord serve`
    /// sends it).
    Redeliver {
        /// The delivery's id.
        id: uuid::Uuid,
    },
}

async fn service(cfg: &Config) -> Result<Service> {
    let db = db::open(&cfg.database_url).await?;
    Ok(Service::open(db.store, Arc::new(SystemClock), cfg.settings()).await?)
}

pub(crate) async fn run(cmd: WebhookCommand, cfg: &Config) -> Result<ExitCode> {
    let svc = service(cfg).await?;
    let code = match command(&svc, cmd).await {
        Ok(code) => code,
        // Bad input names its field; exit 2 like any invalid input.
        Err(ServiceError::Invalid(fields)) => {
            for f in fields {
                eprintln!("error: {}: {}", f.field, f.message);
            }
            ExitCode::from(2)
        }
        Err(e) => {
            svc.store().close().await;
            return Err(e.into());
        }
    };
    svc.store().close().await;
    Ok(code)
}

async fn command(svc: &Service, cmd: WebhookCommand) -> Result<ExitCode, ServiceError> {
    let caller = Caller::Local("cli");
    match cmd {
        WebhookCommand::Add {
            url,
            events,
            format,
            secret_stdin,
        } => {
            let secret = if secret_stdin {
                if std::io::stdin().is_terminal() {
                    eprint!("secret: ");
                }
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| ServiceError::invalid("secret", e.to_string()))?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let created = svc
                .create_webhook(
                    &caller,
                    NewWebhook {
                        url,
                        secret,
                        events,
                        format: Some(format),
                    },
                )
                .await?;
            let w = &created.webhook;
            println!(
                "webhook {} → {} ({}; {})",
                w.id,
                w.url,
                w.format,
                w.events.join(", ")
            );
            if !secret_stdin {
                println!("secret: {}", created.secret);
                eprintln!(
                    "(shown once: the receiver checks the Accord-Signature header with it; see the README)"
                );
            }
        }
        WebhookCommand::List => {
            for w in svc.list_webhooks(&caller).await? {
                println!(
                    "{}  {:<8} {:<5} {}  [{}]",
                    w.id,
                    if w.active { "active" } else { "removed" },
                    w.format,
                    w.url,
                    w.events.join(", ")
                );
            }
        }
        WebhookCommand::Remove { id } => {
            svc.delete_webhook(&caller, id).await?;
            println!("webhook {id} removed");
        }
        WebhookCommand::Test { id } => {
            let t = HttpTransport::new().map_err(ServiceError::Internal)?;
            svc.set_transport(Arc::new(t));
            let answer = svc.test_webhook(&caller, id).await?;
            return Ok(match answer.status {
                Some(status) => {
                    println!("HTTP {status}");
                    if !answer.body.is_empty() {
                        println!("{}", answer.body);
                    }
                    if (200..300).contains(&status) {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                None => {
                    println!(
                        "no answer: {}",
                        answer.error.as_deref().unwrap_or("unknown error")
                    );
                    ExitCode::from(1)
                }
            });
        }
        WebhookCommand::Deliveries { dead, limit } => {
            let state = dead.then_some(DeliveryState::Dead);
            let page = svc
                .list_deliveries(&caller, state, &PageRequest::first(limit))
                .await?;
            for d in page.items {
                let when = match d.state {
                    DeliveryState::Delivered => d
                        .delivered_at
                        .map(|t| format!("delivered {}", t.format("%Y-%m-%d %H:%M:%S")))
                        .unwrap_or_default(),
                    DeliveryState::Pending => {
                        format!("next {}", d.next_attempt_at.format("%Y-%m-%d %H:%M:%S"))
                    }
                    DeliveryState::Dead => d
                        .last_attempt_at
                        .map(|t| format!("died {}", t.format("%Y-%m-%d %H:%M:%S")))
                        .unwrap_or_default(),
                };
                println!(
                    "{}  {:<9} {:>3} attempt(s)  HTTP {:<3}  {}  event {}  webhook {}{}",
                    d.id,
                    d.state.as_str(),
                    d.attempts,
                    d.last_status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".into()),
                    when,
                    d.event_id,
                    d.webhook_id,
                    d.last_error.map(|e| format!("  ({e})")).unwrap_or_default()
                );
            }
        }
        WebhookCommand::Redeliver { id } => {
            let d = svc.redeliver(&caller, id).await?;
            println!(
                "delivery {} of event {} is due again ({} attempt(s) so far)",
                d.id, d.event_id, d.attempts
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
