//! Which of our resources and offers each partner may see, decided once and kept. Deciding visibility means an
//! ODRL evaluation (and the catalogue scope's Rego rules) per offer; at 10 000 resources that took ~115 ms for every
//! page a partner asked for. Here the stored catalogue is read once per catalogue version (one row the store moves
//! on with every change to resources or policies, on any replica) into [`Listing`]s, only what visibility and the
//! catalogue filter read, and each partner's view is decided once per catalogue version and per set of claims we
//! attest for it; a page then costs a version read, one read of the page's resources and the page.
//!
//! A decision is kept only for as long as nothing but its inputs can change it (`twinport_policy::clock`): a
//! policy that does not read the clock stands until the catalogue or the partner's claims change; one that
//! compares the time with dates ("until the end of 2027") stands until the next such date begins or ends, and the
//! partner's view is decided again then; an offer whose policy reads the clock otherwise (time of day, time since
//! the agreement), whose scope's Rego rules may, or whose Rego evaluation failed (a time-out depends on load), is
//! decided again on every request. The engine and its rules are fixed for the life of the service.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use time::OffsetDateTime;
use twinport_policy::clock::Standing;
use twinport_policy::model::Policy;
use twinport_policy::Scope;

use super::decision::{facts, parse, FactsInput, PolicyService};
use crate::catalogue::resource::OfferRef;
use crate::catalogue::{self, Listing, Resource};
use crate::config::PartnerConfig;
use crate::storage::{StorageError, Store};

/// The stored catalogue at one version, as listings.
pub struct Snapshot {
    version: i64,
    /// Ordered by id, as pages are.
    resources: Vec<Listing>,
    by_id: HashMap<String, usize>,
    /// Policy id → body, for publishing offers.
    bodies: HashMap<String, Value>,
    /// Policy id → the policy as the engine reads it, or why it cannot (which denies).
    parsed: HashMap<String, Result<Policy, String>>,
}

impl Snapshot {
    /// Policy id → current body, for publishing offers.
    pub fn policy_bodies(&self) -> &HashMap<String, Value> {
        &self.bodies
    }
}

/// What a partner may see of one snapshot: per resource, the offers decided once and those decided per request.
struct PartnerView {
    version: i64,
    claims: Map<String, Value>,
    /// The first moment a kept decision may change at; `None`: none may.
    until: Option<OffsetDateTime>,
    entries: Vec<Entry>,
}

struct Entry {
    resource: usize,
    /// Offers (by position) the partner may see, decided once.
    shown: Vec<usize>,
    /// Offers decided on every request.
    each_time: Vec<usize>,
}

/// The resources a partner may see now, each with only the offers it may see; in catalogue order.
pub struct Visible {
    snapshot: Arc<Snapshot>,
    /// The partner's kept view, whose decisions most items refer to.
    view: Option<Arc<PartnerView>>,
    items: Vec<Item>,
}

/// One visible resource: its place in the snapshot and where its visible offers are.
struct Item {
    resource: usize,
    offers: Offers,
}

enum Offers {
    /// As decided once: the view's entry at this place (copying 9 000 entries' offers on every request was most of
    /// a page's time).
    Kept(usize),
    /// Decided (in part) on this request.
    Now(Vec<usize>),
}

impl Visible {
    /// The catalogue these resources come from (for publishing their offers).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Each visible resource as stored (all its offers), with the positions of the offers the partner may see.
    pub fn iter(&self) -> impl Iterator<Item = VisibleResource<'_>> {
        self.items.iter().map(|item| VisibleResource {
            resource: &self.snapshot.resources[item.resource],
            offers: match &item.offers {
                Offers::Now(offers) => offers,
                Offers::Kept(k) => self
                    .view
                    .as_ref()
                    .and_then(|v| v.entries.get(*k))
                    .map_or(&[][..], |e| &e.shown),
            },
        })
    }
}

/// One resource a partner may see.
pub struct VisibleResource<'a> {
    /// The resource as listed, with every offer: filter on it, publish what [`load`] reads.
    pub resource: &'a Listing,
    offers: &'a [usize],
}

impl VisibleResource<'_> {
    /// The offers the partner may see.
    pub fn offers(&self) -> impl Iterator<Item = &OfferRef> {
        self.offers
            .iter()
            .filter_map(|i| self.resource.offers.get(*i))
    }

    /// The stored resource with only the offers the partner may see; `None` if it changed or went since its
    /// listing was read (see [`load`]).
    pub async fn load(&self, store: &Store) -> Result<Option<Resource>, StorageError> {
        Ok(load(store, std::slice::from_ref(self)).await?.pop())
    }

    /// `stored` with only the offers the partner may see. An offer counts only where the stored resource still has
    /// exactly the offer that was decided, at the same place: a resource changed since its listing was read
    /// never shows an offer nobody decided on. `None` when no offer is left.
    fn restrict(&self, mut stored: Resource) -> Option<Resource> {
        let offers: Vec<OfferRef> = self
            .offers
            .iter()
            .filter_map(|&o| {
                let decided = self.resource.offers.get(o)?;
                (stored.offers.get(o) == Some(decided)).then(|| decided.clone())
            })
            .collect();
        if offers.is_empty() {
            return None;
        }
        stored.offers = offers;
        Some(stored)
    }
}

/// The stored resources of `page`, in its order, each with only the offers the partner may see, read in one query.
/// A resource deleted or changed since the listings were read is left out (the next request sees the new
/// catalogue version and decides on it).
pub async fn load(
    store: &Store,
    page: &[VisibleResource<'_>],
) -> Result<Vec<Resource>, StorageError> {
    let ids: Vec<String> = page.iter().map(|v| v.resource.id.clone()).collect();
    let mut stored = catalogue::resources_by_id(store, &ids).await?;
    Ok(page
        .iter()
        .filter_map(|v| {
            let r = stored.remove(&v.resource.id)?;
            v.restrict(r)
        })
        .collect())
}

/// The kept snapshot and partners' views; one per contracting service.
#[derive(Default)]
pub struct CatalogueViews {
    snapshot: tokio::sync::Mutex<Option<Arc<Snapshot>>>,
    views: Mutex<HashMap<String, Arc<PartnerView>>>,
    /// The credential types the stored policies read, at the catalogue version they were read at.
    credential_types: tokio::sync::Mutex<Option<(i64, Arc<Vec<String>>)>>,
}

impl CatalogueViews {
    /// The credential types the stored policies read (see [`crate::identity::dcp::scopes`]), read again only when
    /// the catalogue version moves.
    pub async fn credential_types(&self, store: &Store) -> Result<Arc<Vec<String>>, StorageError> {
        let version = store.catalogue_version().await?;
        let mut kept = self.credential_types.lock().await;
        if let Some((v, types)) = kept.as_ref() {
            if *v == version {
                return Ok(types.clone());
            }
        }
        let bodies = catalogue::policy_bodies(store).await?;
        let types = Arc::new(crate::identity::dcp::scopes::credential_types(
            bodies.values(),
        ));
        *kept = Some((version, types.clone()));
        Ok(types)
    }

    /// The catalogue as stored now: the kept snapshot while the store's catalogue version is unchanged.
    pub async fn snapshot(&self, store: &Store) -> Result<Arc<Snapshot>, StorageError> {
        // Read before the rows, so a snapshot is never tagged newer than what it holds: a change in between moves
        // the version past the tag, and the next request reads again.
        let version = store.catalogue_version().await?;
        let mut kept = self.snapshot.lock().await;
        if let Some(s) = kept.as_ref().filter(|s| s.version == version) {
            return Ok(s.clone());
        }
        let resources = catalogue::listings(store).await?;
        let bodies = catalogue::policy_bodies(store).await?;
        let parsed = bodies
            .iter()
            .map(|(id, body)| (id.clone(), parse(body)))
            .collect();
        let by_id = resources
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let snapshot = Arc::new(Snapshot {
            version,
            resources,
            by_id,
            bodies,
            parsed,
        });
        *kept = Some(snapshot.clone());
        // Views of older snapshots can never be used again.
        if let Ok(mut views) = self.views.lock() {
            views.retain(|_, v| v.version == version);
        }
        Ok(snapshot)
    }

    /// Every resource `partner` may see now.
    pub async fn visible(
        &self,
        store: &Store,
        policy: &PolicyService,
        partner: &str,
        config: Option<&PartnerConfig>,
    ) -> Result<Visible, StorageError> {
        let snapshot = self.snapshot(store).await?;
        let claims = config.map(|c| c.claims.clone()).unwrap_or_default();
        let kept = self
            .views
            .lock()
            .ok()
            .and_then(|views| views.get(partner).cloned())
            .filter(|v| {
                v.version == snapshot.version
                    && v.claims == claims
                    && v.until.is_none_or(|t| OffsetDateTime::now_utc() < t)
            });
        let view = match kept {
            Some(v) => v,
            None => {
                let mut until = None;
                let entries = (0..snapshot.resources.len())
                    .filter_map(|i| decide(&snapshot, policy, partner, config, i, &mut until))
                    .collect();
                let view = Arc::new(PartnerView {
                    version: snapshot.version,
                    claims,
                    until,
                    entries,
                });
                if let Ok(mut views) = self.views.lock() {
                    views.insert(partner.to_string(), view.clone());
                }
                view
            }
        };
        let items = view
            .entries
            .iter()
            .enumerate()
            .filter_map(|(k, e)| {
                if e.each_time.is_empty() {
                    // An entry is kept only with an offer to show or to decide now.
                    return Some(Item {
                        resource: e.resource,
                        offers: Offers::Kept(k),
                    });
                }
                now_visible(&snapshot, policy, partner, config, e)
            })
            .collect();
        Ok(Visible {
            snapshot,
            view: Some(view),
            items,
        })
    }

    /// The resource `id` if `partner` may see it now (decided on that resource alone, so a kept view is not
    /// needed).
    pub async fn visible_one(
        &self,
        store: &Store,
        policy: &PolicyService,
        partner: &str,
        config: Option<&PartnerConfig>,
        id: &str,
    ) -> Result<Option<Visible>, StorageError> {
        let snapshot = self.snapshot(store).await?;
        let Some(&i) = snapshot.by_id.get(id) else {
            return Ok(None);
        };
        let item = decide(&snapshot, policy, partner, config, i, &mut None)
            .and_then(|e| now_visible(&snapshot, policy, partner, config, &e));
        Ok(item.map(|item| Visible {
            snapshot,
            view: None,
            items: vec![item],
        }))
    }
}

/// Decides the offers of resource `i` that can be decided in advance, lowering `until` to the first moment one of
/// those decisions may change at; `None` when the partner cannot see the resource until then.
fn decide(
    snapshot: &Snapshot,
    policy: &PolicyService,
    partner: &str,
    config: Option<&PartnerConfig>,
    i: usize,
    until: &mut Option<OffsetDateTime>,
) -> Option<Entry> {
    // Taken before deciding: a moment between this and the decision only makes the kept decision expire early.
    let now = OffsetDateTime::now_utc();
    let resource = &snapshot.resources[i];
    let mut entry = Entry {
        resource: i,
        shown: Vec::new(),
        each_time: Vec::new(),
    };
    for (o, offer) in resource.offers.iter().enumerate() {
        // An offer under a policy that does not exist is never shown.
        let Some(parsed) = snapshot.parsed.get(&offer.policy) else {
            continue;
        };
        let standing = match parsed {
            Ok(p) => policy.engine().decision_standing(p, Scope::Catalogue, now),
            // An unreadable policy denies at any time.
            Err(_) => Standing::Always,
        };
        if standing == Standing::Now {
            entry.each_time.push(o);
            continue;
        }
        let decided = decide_offer(policy, parsed, partner, config, resource);
        if decided
            .report
            .rego
            .as_ref()
            .is_some_and(|r| r.error.is_some())
        {
            entry.each_time.push(o);
            continue;
        }
        if let Standing::Until(t) = standing {
            *until = Some(until.map_or(t, |u| u.min(t)));
        }
        if decided.report.is_permit() {
            entry.shown.push(o);
        }
    }
    (!entry.shown.is_empty() || !entry.each_time.is_empty()).then_some(entry)
}

/// The entry's offers the partner may see now: those decided once, and those decided again now.
fn now_visible(
    snapshot: &Snapshot,
    policy: &PolicyService,
    partner: &str,
    config: Option<&PartnerConfig>,
    entry: &Entry,
) -> Option<Item> {
    let resource = &snapshot.resources[entry.resource];
    let mut offers = entry.shown.clone();
    for &o in &entry.each_time {
        let Some(parsed) = resource
            .offers
            .get(o)
            .and_then(|offer| snapshot.parsed.get(&offer.policy))
        else {
            continue;
        };
        if decide_offer(policy, parsed, partner, config, resource)
            .report
            .is_permit()
        {
            offers.push(o);
        }
    }
    offers.sort_unstable();
    (!offers.is_empty()).then_some(Item {
        resource: entry.resource,
        offers: Offers::Now(offers),
    })
}

/// Whether `partner` may see an offer under `parsed` on `resource`: the policy evaluated in the catalogue scope
/// with what we know of the partner (could it obtain one of the offer's permissions?).
fn decide_offer(
    policy: &PolicyService,
    parsed: &Result<Policy, String>,
    partner: &str,
    config: Option<&PartnerConfig>,
    resource: &Listing,
) -> super::decision::Decided {
    let known = facts(FactsInput {
        partner_id: partner,
        partner: config,
        resource: Some(resource.context()),
        purpose: None,
        agreement: None,
        accesses: None,
        flow: None,
        method: None,
        duties: Default::default(),
    });
    policy.decide_parsed(parsed, Scope::Catalogue, &known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::test_support::replicas;
    use crate::storage::ResourceSource;
    use serde_json::json;
    use twinport_policy::zone::PolicyZone;

    const PARTNER: &str = "https://city-b.example/twinport";

    fn engine() -> PolicyService {
        let dir = tempfile::tempdir().expect("temp dir");
        PolicyService::load(dir.path(), &PolicyZone::utc()).expect("no rules")
    }

    fn partner(claims: Value) -> PartnerConfig {
        PartnerConfig {
            id: PARTNER.into(),
            name: None,
            url: None,
            keys: crate::config::PartnerKeys::Url {
                url: "https://city-b.example/jwks".into(),
                cache_for: std::time::Duration::from_secs(60),
            },
            claims: claims.as_object().cloned().unwrap_or_default(),
        }
    }

    async fn put(store: &Store, id: &str, policy: &str) {
        let body = json!({"id": id, "kind": "dataset", "stage": "raw", "title": id,
            "distributions": [{"format": "application/json", "backend": "http://platform/x"}],
            "offers": [{"policy": policy}]});
        store
            .put_resource(id, "dataset", ResourceSource::Api, &body)
            .await
            .expect("put resource");
    }

    async fn shown(
        views: &CatalogueViews,
        store: &Store,
        policy: &PolicyService,
        p: &PartnerConfig,
    ) -> Vec<String> {
        let visible = views
            .visible(store, policy, PARTNER, Some(p))
            .await
            .expect("visible");
        visible.iter().map(|v| v.resource.id.clone()).collect()
    }

    #[tokio::test]
    async fn a_change_by_another_replica_is_seen_on_the_next_request() {
        for (here, there, _dir) in replicas().await {
            let (views, policy, p) = (CatalogueViews::default(), engine(), partner(json!({})));
            there
                .put_policy(
                    "open",
                    ResourceSource::Api,
                    &json!({"permission": [{"action": "use"}]}),
                )
                .await
                .unwrap();
            put(&there, "urn:r:1", "open").await;
            assert_eq!(shown(&views, &here, &policy, &p).await, ["urn:r:1"]);
            put(&there, "urn:r:2", "open").await;
            assert_eq!(
                shown(&views, &here, &policy, &p).await,
                ["urn:r:1", "urn:r:2"]
            );
            // A stricter version of the policy hides every offer under it at once.
            there
                .put_policy("open", ResourceSource::Api, &json!({"permission": [{"action": "use", "constraint": [
                    {"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}]}]}))
                .await
                .unwrap();
            assert!(shown(&views, &here, &policy, &p).await.is_empty());
            assert!(views
                .visible_one(&here, &policy, PARTNER, Some(&p), "urn:r:1")
                .await
                .unwrap()
                .is_none());
        }
    }

    #[tokio::test]
    async fn a_page_shows_only_offers_decided_on_even_if_the_resource_changed_since() {
        for (store, _, _dir) in replicas().await {
            let (views, policy, p) = (CatalogueViews::default(), engine(), partner(json!({})));
            for (id, body) in [
                ("open", json!({"permission": [{"action": "use"}]})),
                (
                    "members",
                    json!({"permission": [{"action": "use", "constraint": [
                    {"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}]}]}),
                ),
            ] {
                store
                    .put_policy(id, ResourceSource::Api, &body)
                    .await
                    .unwrap();
            }
            put(&store, "urn:r:1", "open").await;
            put(&store, "urn:r:2", "open").await;
            let visible = views
                .visible(&store, &policy, PARTNER, Some(&p))
                .await
                .unwrap();
            let page: Vec<_> = visible.iter().collect();
            let loaded = load(&store, &page).await.unwrap();
            assert_eq!(loaded.len(), 2);
            assert_eq!(loaded[0].title, "urn:r:1", "read whole from the store");
            assert_eq!(loaded[0].offers[0].policy, "open");
            // Changed under the page being rendered: its one offer now under a policy nobody decided on.
            put(&store, "urn:r:1", "members").await;
            let loaded = load(&store, &page).await.unwrap();
            assert_eq!(
                loaded.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
                ["urn:r:2"]
            );
            store.delete_resource("urn:r:2").await.unwrap();
            assert!(load(&store, &page).await.unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn a_partner_with_other_claims_is_decided_anew() {
        for (store, _, _dir) in replicas().await {
            let (views, policy) = (CatalogueViews::default(), engine());
            store
                .put_policy("members", ResourceSource::Api, &json!({"permission": [{"action": "use", "constraint": [
                    {"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}]}]}))
                .await
                .unwrap();
            put(&store, "urn:r:1", "members").await;
            assert!(shown(&views, &store, &policy, &partner(json!({})))
                .await
                .is_empty());
            let member = partner(json!({"membership": "ldt-network"}));
            assert_eq!(shown(&views, &store, &policy, &member).await, ["urn:r:1"]);
            assert!(shown(&views, &store, &policy, &partner(json!({})))
                .await
                .is_empty());
        }
    }

    #[tokio::test]
    async fn a_decision_under_a_date_is_made_again_once_the_date_passes() {
        for (store, _, _dir) in replicas().await {
            let (views, policy, p) = (CatalogueViews::default(), engine(), partner(json!({})));
            let soon = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1500);
            let soon = soon
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            store
                .put_policy("from-soon", ResourceSource::Api, &json!({"permission": [{"action": "use", "constraint": [
                    {"leftOperand": "dateTime", "operator": "gt", "rightOperand": {"@value": soon, "@type": "xsd:dateTime"}}]}]}))
                .await
                .unwrap();
            put(&store, "urn:r:1", "from-soon").await;
            assert!(shown(&views, &store, &policy, &p).await.is_empty());
            let version = store.catalogue_version().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
            // Nothing stored changed, and the offer is shown now: the kept view expired at that instant.
            assert_eq!(store.catalogue_version().await.unwrap(), version);
            assert_eq!(shown(&views, &store, &policy, &p).await, ["urn:r:1"]);
        }
    }

    #[tokio::test]
    async fn an_offer_under_the_time_of_day_is_decided_on_every_request() {
        for (store, _, _dir) in replicas().await {
            let (views, policy, p) = (CatalogueViews::default(), engine(), partner(json!({})));
            let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
            if soon.hour() == 0 && soon.minute() == 0 {
                return; // Past midnight "from 00:00:01" would hold at once; nothing to learn this second.
            }
            let from = format!(
                "{:02}:{:02}:{:02}",
                soon.hour(),
                soon.minute(),
                soon.second()
            );
            store
                .put_policy("from-soon", ResourceSource::Api, &json!({"permission": [{"action": "use", "constraint": [
                    {"leftOperand": "twinport:timeOfDay", "operator": "gteq", "rightOperand": from}]}]}))
                .await
                .unwrap();
            put(&store, "urn:r:1", "from-soon").await;
            assert!(shown(&views, &store, &policy, &p).await.is_empty());
            tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
            assert_eq!(shown(&views, &store, &policy, &p).await, ["urn:r:1"]);
        }
    }
}
