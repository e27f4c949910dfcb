//! People, teams, accounts, opportunities, and API tokens.

use accord_domain::account::{Account, Opportunity};
use accord_domain::id::{AccountId, OpportunityId, PersonId};
use accord_domain::people::{Person, Role, Team};
use accord_service::Caller;
use accord_store::{ApiToken, Page, PeopleFilter};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::page;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::{ApiState, At, Body, Params};

pub(crate) fn routes(r: OpenApiRouter<ApiState>) -> OpenApiRouter<ApiState> {
    r.routes(routes!(list_people, save_person))
        .routes(routes!(get_person))
        .routes(routes!(list_teams, save_team))
        .routes(routes!(list_accounts, save_account))
        .routes(routes!(get_account))
        .routes(routes!(list_opportunities, save_opportunity))
        .routes(routes!(get_opportunity))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Filters for people.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PeopleQuery {
    /// With this role.
    role: Option<Role>,
    /// In this team.
    team: Option<accord_domain::id::TeamId>,
    /// Name or email containing this.
    q: Option<String>,
    /// Include people who left.
    #[serde(default)]
    inactive: bool,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// People, by name.
#[utoipa::path(get, path = "/api/v1/people", tag = "org", params(PeopleQuery), responses((status = 200, body = Page<Person>)))]
async fn list_people(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<PeopleQuery>,
) -> ApiResult<Json<Page<Person>>> {
    let f = PeopleFilter {
        role: q.role,
        team: q.team,
        search: q.q,
        include_inactive: q.inactive,
    };
    Ok(Json(
        s.service
            .list_people(&auth.principal, &f, &page(&q.after, q.limit))
            .await?,
    ))
}

/// Create or update a person (matched by external id, then email). Admins.
#[utoipa::path(post, path = "/api/v1/people", tag = "org", request_body = Person,
    responses((status = 200, body = Person), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn save_person(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<Person>,
) -> ApiResult<Json<Person>> {
    Ok(Json(
        s.service
            .save_person(&Caller::Person(auth.principal), &b)
            .await?,
    ))
}

/// A person.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "org", params(("id" = PersonId, Path)), responses((status = 200, body = Person), (status = 404, body = Problem)))]
async fn get_person(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<PersonId>,
) -> ApiResult<Json<Person>> {
    Ok(Json(s.service.get_person(&auth.principal, id).await?))
}

/// Every team.
#[utoipa::path(get, path = "/api/v1/teams", tag = "org", responses((status = 200, body = Vec<Team>)))]
async fn list_teams(State(s): State<ApiState>, auth: Auth) -> ApiResult<Json<Vec<Team>>> {
    Ok(Json(s.service.list_teams(&auth.principal).await?))
}

/// Create or update a team. Admins.
#[utoipa::path(post, path = "/api/v1/teams", tag = "org", request_body = Team,
    responses((status = 200, body = Team), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn save_team(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<Team>,
) -> ApiResult<Json<Team>> {
    Ok(Json(
        s.service
            .save_team(&Caller::Person(auth.principal), &b)
            .await?,
    ))
}

/// Filters for accounts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AccountQuery {
    /// Owned by this rep.
    owner: Option<PersonId>,
    /// Name containing this.
    q: Option<String>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Accounts, by name.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "org", params(AccountQuery), responses((status = 200, body = Page<Account>)))]
async fn list_accounts(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<AccountQuery>,
) -> ApiResult<Json<Page<Account>>> {
    Ok(Json(
        s.service
            .list_accounts(
                &auth.principal,
                q.owner,
                q.q.as_deref(),
                &page(&q.after, q.limit),
            )
            .await?,
    ))
}

/// Create or update an account and its domains. Admins.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "org", request_body = Account,
    responses((status = 200, body = Account), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn save_account(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<Account>,
) -> ApiResult<Json<Account>> {
    Ok(Json(
        s.service
            .save_account(&Caller::Person(auth.principal), &b)
            .await?,
    ))
}

/// An account.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "org", params(("id" = AccountId, Path)), responses((status = 200, body = Account), (status = 404, body = Problem)))]
async fn get_account(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<AccountId>,
) -> ApiResult<Json<Account>> {
    Ok(Json(s.service.get_account(&auth.principal, id).await?))
}

/// Filters for opportunities.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OpportunityQuery {
    /// On this account.
    account: Option<AccountId>,
    /// Owned by this rep.
    owner: Option<PersonId>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Items per page (1–500, default 50).
    limit: Option<u32>,
}

/// Opportunities, newest first.
#[utoipa::path(get, path = "/api/v1/opportunities", tag = "org", params(OpportunityQuery), responses((status = 200, body = Page<Opportunity>)))]
async fn list_opportunities(
    State(s): State<ApiState>,
    auth: Auth,
    Params(q): Params<OpportunityQuery>,
) -> ApiResult<Json<Page<Opportunity>>> {
    Ok(Json(
        s.service
            .list_opportunities(
                &auth.principal,
                q.account,
                q.owner,
                &page(&q.after, q.limit),
            )
            .await?,
    ))
}

/// Create or update an opportunity. Admins.
#[utoipa::path(post, path = "/api/v1/opportunities", tag = "org", request_body = Opportunity,
    responses((status = 200, body = Opportunity), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn save_opportunity(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<Opportunity>,
) -> ApiResult<Json<Opportunity>> {
    Ok(Json(
        s.service
            .save_opportunity(&Caller::Person(auth.principal), &b)
            .await?,
    ))
}

/// An opportunity.
#[utoipa::path(get, path = "/api/v1/opportunities/{id}", tag = "org", params(("id" = OpportunityId, Path)), responses((status = 200, body = Opportunity), (status = 404, body = Problem)))]
async fn get_opportunity(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<OpportunityId>,
) -> ApiResult<Json<Opportunity>> {
    Ok(Json(s.service.get_opportunity(&auth.principal, id).await?))
}

/// Tokens: your own, or everyone's for an admin.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = Vec<ApiToken>)))]
async fn list_tokens(State(s): State<ApiState>, auth: Auth) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(
        s.service
            .list_tokens(&Caller::Person(auth.principal))
            .await?,
    ))
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct NewToken {
    /// For whom (yourself when absent; others: admins only).
    #[serde(default)]
    email: Option<String>,
    /// A label.
    #[serde(default)]
    name: String,
}

/// A new token: the secret is shown once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedToken {
    /// The token.
    token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`. Not shown again.
    secret: String,
}

/// Create an API token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem)))]
async fn create_token(
    State(s): State<ApiState>,
    auth: Auth,
    Body(b): Body<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let email = b
        .email
        .unwrap_or_else(|| auth.principal.person.email.to_string());
    let (token, secret) = s
        .service
        .create_token(&Caller::Person(auth.principal), &email, &b.name)
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// Revoke a token (yours, or anyone's for an admin).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_token(
    State(s): State<ApiState>,
    auth: Auth,
    At(id): At<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    s.service
        .revoke_token(&Caller::Person(auth.principal), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
