//! The load benchmark's baseline: a bare axum handler on the same runtime
//! settings as `accord serve`, so `bench/load.sh` can say how much of the
//! machine's HTTP capacity accord keeps. Not part of the product.
//!
//! `cargo run --release -p accord-server --example baseline -- 127.0.0.1:0`
//! prints `baseline is serving on http://ADDR`.

use axum::routing::get;
use axum::{Json, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("baseline is serving on http://{}", listener.local_addr()?);
    // GET /body/N: N bytes of JSON, built once: what the network and the
    // load generator alone cost for a response the size of a list page.
    let app = Router::new()
        .route(
            "/",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route(
            "/body/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<usize>| async move {
                    let mut s = String::with_capacity(n + 16);
                    s.push_str("{\"pad\":\"");
                    while s.len() < n.saturating_sub(2) {
                        s.push('x');
                    }
                    s.push_str("\"}");
                    ([("content-type", "application/json")], s)
                },
            ),
        );
    axum::serve(listener, app).await
}
