//! How a PM's time splits between product work and sales support: the
//! hours of their completed engagement requests over a window, by
//! category and by engagement type — the same hours, counted the same
//! way, as the `sales_support_share` signal.

use std::collections::BTreeMap;

use accord_domain::id::PersonId;
use accord_domain::request::Category;
use accord_store::rollup;
use chrono::NaiveDate;
use serde::Serialize;

use crate::Service;
use crate::authz::{Action, Principal};
use crate::error::{Result, ServiceError};

/// One engagement type's share of a PM's time.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypeHours {
    /// The engagement type's id.
    pub engagement_type: String,
    /// Its name in the playbook in force (the id when it is no longer there).
    pub name: String,
    /// Its category; a type no longer in the playbook counts as product
    /// work, as the signal counts it.
    pub category: Category,
    /// Completed requests.
    pub requests: i64,
    /// Hours logged on them.
    pub hours: f64,
}

/// A PM's hours over a window, by category and type.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeSplit {
    /// Whose.
    pub pm: PersonId,
    /// The window's first day.
    pub first: NaiveDate,
    /// Its last day.
    pub last: NaiveDate,
    /// Its length in days.
    pub window_days: u32,
    /// Hours of product work.
    pub product_hours: f64,
    /// Hours of sales support.
    pub support_hours: f64,
    /// Completed requests.
    pub requests: i64,
    /// By engagement type, most hours first.
    pub by_type: Vec<TypeHours>,
}

impl TimeSplit {
    /// All hours.
    pub fn total_hours(&self) -> f64 {
        self.product_hours + self.support_hours
    }

    /// The share of hours spent on sales support (none without hours).
    pub fn support_share(&self) -> Option<f64> {
        let total = self.total_hours();
        (total > 0.0).then(|| self.support_hours / total)
    }
}

impl Service {
    /// How `pm`'s completed engagement hours split over the `window_days`
    /// ending `as_of` (by completion date). A PM sees their own; leaders
    /// see anyone's.
    pub async fn time_split(
        &self,
        who: &Principal,
        pm: PersonId,
        as_of: NaiveDate,
        window_days: u32,
    ) -> Result<TimeSplit> {
        let own = pm == who.person.id && who.role().is_product();
        if !own {
            who.require(Action::ReadReport)
                .map_err(|_| ServiceError::forbidden("you can see how your own time splits"))?;
        }
        let active = self.playbook();
        let (first, last, start, end) = rollup::window(as_of, window_days);
        let mut tx = self.store().read().await?;
        let rows = tx.done_requests(start, end).await?;
        drop(tx);
        let mut per_type: BTreeMap<String, (i64, f64)> = BTreeMap::new();
        for r in rows.into_iter().filter(|r| r.pm == Some(pm)) {
            let e = per_type.entry(r.engagement_type).or_default();
            e.0 += r.count;
            e.1 += r.hours;
        }
        let mut split = TimeSplit {
            pm,
            first,
            last,
            window_days: window_days.max(1),
            product_hours: 0.0,
            support_hours: 0.0,
            requests: 0,
            by_type: Vec::with_capacity(per_type.len()),
        };
        for (ty, (requests, hours)) in per_type {
            let def = active.playbook.engagement_type(&ty);
            let category = def.map(|t| t.category).unwrap_or(Category::Product);
            match category {
                Category::Product => split.product_hours += hours,
                Category::SalesSupport => split.support_hours += hours,
            }
            split.requests += requests;
            split.by_type.push(TypeHours {
                name: def.map(|t| t.name.clone()).unwrap_or_else(|| ty.clone()),
                engagement_type: ty,
                category,
                requests,
                hours,
            });
        }
        split.by_type.sort_by(|a, b| {
            b.hours
                .total_cmp(&a.hours)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(split)
    }
}
