//! Negotiations and transfer processes as stored, with their history and the outbox messages a state change
//! causes. A state change, its history line and its outgoing messages commit in one transaction, guarded by the
//! row's version, so a crash or a concurrent message can never leave a state without the message it implies.
//! The two tables are read and written by one set of queries through [`ProcessRow`], which each record type
//! implements with its own columns.

use serde_json::Value;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row, Transaction};

use super::listing::{paged, Conditions, Page, PageRequest, Window};
use super::{now_text, StorageError, Store};

/// A contract negotiation, on either side.
#[derive(Debug, Clone, PartialEq)]
pub struct NegotiationRecord {
    pub id: String,
    /// `provider` or `consumer`: our role in this negotiation.
    pub role: String,
    pub provider_pid: Option<String>,
    pub consumer_pid: Option<String>,
    pub partner: String,
    pub state: String,
    pub dataset: String,
    /// The latest offer on the table.
    pub offer: Value,
    /// Who made the latest offer (`provider` or `consumer`).
    pub offer_by: String,
    /// Where to send messages for this negotiation (the peer's callback address or DSP base).
    pub peer_address: Option<String>,
    pub purpose: Option<String>,
    pub agreement_id: Option<String>,
    /// What the negotiation is waiting for, in words, when it waits.
    pub waiting_for: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A transfer process, on either side.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferRecord {
    pub id: String,
    pub role: String,
    pub provider_pid: Option<String>,
    pub consumer_pid: Option<String>,
    pub partner: String,
    pub agreement_id: String,
    pub state: String,
    pub format: String,
    pub peer_address: Option<String>,
    /// Consumer side: the data address received. Provider side: the push target given by the consumer.
    pub data_address: Option<Value>,
    /// SHA-256 (hex) of the access token issued for a pull transfer; the token itself is never stored.
    pub token_hash: Option<String>,
    pub token_expires: Option<i64>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// What a list of processes is narrowed to; `None` (or an open window) means any.
#[derive(Debug, Clone, Default)]
pub struct ProcessFilter {
    pub state: Option<String>,
    pub role: Option<String>,
    pub partner: Option<String>,
    /// The dataset negotiated for, or (transfers) the target of the agreement transferred under.
    pub dataset: Option<String>,
    pub agreement: Option<String>,
    pub created: Window,
    pub updated: Window,
}

/// One line of a process's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_state: Option<String>,
    pub to_state: String,
    /// What happened, e.g. `received ContractRequestMessage from https://city-b.example`.
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A message to send to a partner once the change commits.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    pub partner: String,
    pub kind: String,
    pub url: String,
    pub body: Value,
    /// Detached JWS to send in the signature header, if any.
    pub signature: Option<String>,
    /// The state the process reaches when the partner acknowledges this message (DSP 2025-1: a state changes
    /// when the counterparty acknowledges); `None` for a message that moves nothing.
    pub transition_to: Option<String>,
}

impl NewOutbox {
    /// This message moves its process to `state` once the partner acknowledges it.
    pub fn reaching(mut self, state: &str) -> NewOutbox {
        self.transition_to = Some(state.to_string());
        self
    }
}

/// What a state change writes beside the row: a history line and messages to send.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub history: Vec<(Option<String>, String, String, Option<String>)>,
    pub outbox: Vec<NewOutbox>,
    /// An agreement concluded by this change, stored with it.
    pub agreement: Option<super::AgreementRecord>,
    /// The digest of the partner's message that caused this change (and whether it had its own `@id`), recorded
    /// with it so a repeat of that message is recognised.
    pub received: Option<(String, bool)>,
}

impl Change {
    pub fn new() -> Change {
        Change::default()
    }

    /// Records `from → to` because of `event`.
    pub fn history(
        mut self,
        from: Option<&str>,
        to: &str,
        event: impl Into<String>,
        detail: Option<String>,
    ) -> Change {
        self.history.push((
            from.map(str::to_string),
            to.to_string(),
            event.into(),
            detail,
        ));
        self
    }

    pub fn send(mut self, message: NewOutbox) -> Change {
        self.outbox.push(message);
        self
    }

    /// This change was caused by the partner's message with `digest`.
    pub fn received(mut self, digest: String, has_id: bool) -> Change {
        self.received = Some((digest, has_id));
        self
    }

    pub fn conclude(mut self, agreement: super::AgreementRecord) -> Change {
        self.agreement = Some(agreement);
        self
    }
}

/// A query on the `Any` driver, as the process rows bind their columns into it.
pub type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// A process table: negotiations and transfers keep their own columns, but are looked up, listed, inserted and
/// updated (under the version guard) by the same queries, written once below.
pub trait ProcessRow: Sized + Send + Sync + Unpin + 'static {
    /// `negotiation` or `transfer`, as messages name the process.
    const KIND: &'static str;
    const TABLE: &'static str;
    /// Every column, in the order rows are read and inserted, separated by `, `.
    const COLUMNS: &'static str;
    /// What an update writes besides `version` and `updated_at`, separated by `, `; the other columns are fixed at
    /// insertion.
    const UPDATED: &'static str;
    /// Whether the data plane caches these rows, so that a write must tell it (see [`Store::generation`]).
    const CACHED: bool;
    /// The condition selecting the processes about one dataset (`?` is its id): a negotiation names it, a
    /// transfer has it from its agreement's target.
    const DATASET_CONDITION: &'static str;

    fn from_row(row: &AnyRow) -> Result<Self, StorageError>;
    /// Binds this row's value of `column` as the query's next argument; one place per column says how it is stored.
    fn bind<'q>(&'q self, column: &str, query: AnyQuery<'q>) -> AnyQuery<'q>;
    fn common(&self) -> Common<'_>;
    fn common_mut(&mut self) -> CommonMut<'_>;
}

/// The fields both process tables have.
pub struct Common<'a> {
    pub id: &'a str,
    pub role: &'a str,
    pub partner: &'a str,
    pub state: &'a str,
    pub version: i64,
    pub created_at: &'a str,
    pub updated_at: &'a str,
}

/// The fields both process tables have that change as a process learns about its partner, borrowed to change in
/// place, with the partner they concern.
pub struct CommonMut<'a> {
    pub partner: &'a str,
    pub provider_pid: &'a mut Option<String>,
    pub consumer_pid: &'a mut Option<String>,
    pub peer_address: &'a mut Option<String>,
    pub version: &'a mut i64,
}

/// Both record types name their shared fields alike, so their accessors are the same text.
macro_rules! common_accessors {
    () => {
        fn common(&self) -> Common<'_> {
            Common {
                id: &self.id,
                role: &self.role,
                partner: &self.partner,
                state: &self.state,
                version: self.version,
                created_at: &self.created_at,
                updated_at: &self.updated_at,
            }
        }

        fn common_mut(&mut self) -> CommonMut<'_> {
            CommonMut {
                partner: &self.partner,
                provider_pid: &mut self.provider_pid,
                consumer_pid: &mut self.consumer_pid,
                peer_address: &mut self.peer_address,
                version: &mut self.version,
            }
        }
    };
}

fn json(text: &str, what: &str) -> Result<Value, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

fn unknown_column(table: &str, column: &str) -> ! {
    unreachable!("{column} is not a column of {table}")
}

impl ProcessRow for NegotiationRecord {
    const KIND: &'static str = "negotiation";
    const TABLE: &'static str = "negotiations";
    const COLUMNS: &'static str =
        "id, role, provider_pid, consumer_pid, partner, state, dataset, offer, offer_by, \
        peer_address, purpose, agreement_id, waiting_for, version, created_at, updated_at";
    const UPDATED: &'static str =
        "provider_pid, consumer_pid, state, offer, offer_by, peer_address, purpose, agreement_id, waiting_for";
    const CACHED: bool = false;
    const DATASET_CONDITION: &'static str = "dataset = ?";

    fn from_row(row: &AnyRow) -> Result<Self, StorageError> {
        Ok(NegotiationRecord {
            id: row.try_get("id")?,
            role: row.try_get("role")?,
            provider_pid: row.try_get("provider_pid")?,
            consumer_pid: row.try_get("consumer_pid")?,
            partner: row.try_get("partner")?,
            state: row.try_get("state")?,
            dataset: row.try_get("dataset")?,
            offer: json(&row.try_get::<String, _>("offer")?, "negotiation offer")?,
            offer_by: row.try_get("offer_by")?,
            peer_address: row.try_get("peer_address")?,
            purpose: row.try_get("purpose")?,
            agreement_id: row.try_get("agreement_id")?,
            waiting_for: row.try_get("waiting_for")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    fn bind<'q>(&'q self, column: &str, query: AnyQuery<'q>) -> AnyQuery<'q> {
        match column {
            "id" => query.bind(&self.id),
            "role" => query.bind(&self.role),
            "provider_pid" => query.bind(self.provider_pid.as_deref()),
            "consumer_pid" => query.bind(self.consumer_pid.as_deref()),
            "partner" => query.bind(&self.partner),
            "state" => query.bind(&self.state),
            "dataset" => query.bind(&self.dataset),
            "offer" => query.bind(self.offer.to_string()),
            "offer_by" => query.bind(&self.offer_by),
            "peer_address" => query.bind(self.peer_address.as_deref()),
            "purpose" => query.bind(self.purpose.as_deref()),
            "agreement_id" => query.bind(self.agreement_id.as_deref()),
            "waiting_for" => query.bind(self.waiting_for.as_deref()),
            "version" => query.bind(self.version),
            "created_at" => query.bind(&self.created_at),
            "updated_at" => query.bind(&self.updated_at),
            _ => unknown_column(Self::TABLE, column),
        }
    }

    common_accessors!();
}

impl ProcessRow for TransferRecord {
    const KIND: &'static str = "transfer";
    const TABLE: &'static str = "transfers";
    const COLUMNS: &'static str =
        "id, role, provider_pid, consumer_pid, partner, agreement_id, state, format, \
        peer_address, data_address, token_hash, token_expires, version, created_at, updated_at";
    const UPDATED: &'static str =
        "provider_pid, consumer_pid, state, peer_address, data_address, token_hash, token_expires";
    const CACHED: bool = true;
    const DATASET_CONDITION: &'static str =
        "agreement_id IN (SELECT a.id FROM agreements a WHERE a.target = ?)";

    fn from_row(row: &AnyRow) -> Result<Self, StorageError> {
        let address: Option<String> = row.try_get("data_address")?;
        Ok(TransferRecord {
            id: row.try_get("id")?,
            role: row.try_get("role")?,
            provider_pid: row.try_get("provider_pid")?,
            consumer_pid: row.try_get("consumer_pid")?,
            partner: row.try_get("partner")?,
            agreement_id: row.try_get("agreement_id")?,
            state: row.try_get("state")?,
            format: row.try_get("format")?,
            peer_address: row.try_get("peer_address")?,
            data_address: address
                .map(|a| json(&a, "transfer data address"))
                .transpose()?,
            token_hash: row.try_get("token_hash")?,
            token_expires: row.try_get("token_expires")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    fn bind<'q>(&'q self, column: &str, query: AnyQuery<'q>) -> AnyQuery<'q> {
        match column {
            "id" => query.bind(&self.id),
            "role" => query.bind(&self.role),
            "provider_pid" => query.bind(self.provider_pid.as_deref()),
            "consumer_pid" => query.bind(self.consumer_pid.as_deref()),
            "partner" => query.bind(&self.partner),
            "agreement_id" => query.bind(&self.agreement_id),
            "state" => query.bind(&self.state),
            "format" => query.bind(&self.format),
            "peer_address" => query.bind(self.peer_address.as_deref()),
            "data_address" => query.bind(self.data_address.as_ref().map(Value::to_string)),
            "token_hash" => query.bind(self.token_hash.as_deref()),
            "token_expires" => query.bind(self.token_expires),
            "version" => query.bind(self.version),
            "created_at" => query.bind(&self.created_at),
            "updated_at" => query.bind(&self.updated_at),
            _ => unknown_column(Self::TABLE, column),
        }
    }

    common_accessors!();
}

/// `SELECT` of every column of `R`'s table, followed by `rest` (the filter and order).
fn select<R: ProcessRow>(rest: &str) -> String {
    format!("SELECT {} FROM {} {rest}", R::COLUMNS, R::TABLE)
}

/// `$1, $2, …` for `count` arguments.
fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn insert_sql<R: ProcessRow>() -> String {
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        R::TABLE,
        R::COLUMNS,
        placeholders(R::COLUMNS.split(", ").count())
    )
}

/// The update guarded by the row's version: the `UPDATED` columns, then the new version, `updated_at`, the id and
/// the version the row must still have.
fn update_sql<R: ProcessRow>() -> String {
    let set: Vec<String> = R::UPDATED
        .split(", ")
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    let n = set.len();
    format!(
        "UPDATE {} SET {}, version = ${}, updated_at = ${} WHERE id = ${} AND version = ${}",
        R::TABLE,
        set.join(", "),
        n + 1,
        n + 2,
        n + 3,
        n + 4
    )
}

async fn write_change(
    tx: &mut Transaction<'_, Any>,
    process_id: &str,
    change: &Change,
) -> Result<(), StorageError> {
    let now = now_text();
    if let Some(a) = &change.agreement {
        super::agreements::insert_in(tx, a).await?;
    }
    for (from, to, event, detail) in &change.history {
        sqlx::query("INSERT INTO process_history (process_id, at, from_state, to_state, event, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(process_id)
            .bind(&now)
            .bind(from.as_deref())
            .bind(to)
            .bind(event)
            .bind(detail.as_deref())
            .execute(&mut **tx)
            .await?;
    }
    if let Some((digest, has_id)) = &change.received {
        super::received::record_in(tx, process_id, digest, *has_id).await?;
    }
    for m in &change.outbox {
        sqlx::query(
            "INSERT INTO outbox (process_id, partner, kind, url, body, signature, status, attempts, next_attempt_ms, created_at, transition_to) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, 0, $7, $8)",
        )
        .bind(process_id)
        .bind(&m.partner)
        .bind(&m.kind)
        .bind(&m.url)
        .bind(m.body.to_string())
        .bind(m.signature.as_deref())
        .bind(&now)
        .bind(m.transition_to.as_deref())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The column holding our own pid for a process we hold in `role`.
fn own_pid_column(role: &str) -> &'static str {
    if role == "provider" {
        "provider_pid"
    } else {
        "consumer_pid"
    }
}

/// The column holding the partner's pid for a process we hold in `role`.
fn partner_pid_column(role: &str) -> &'static str {
    if role == "provider" {
        "consumer_pid"
    } else {
        "provider_pid"
    }
}

impl Store {
    /// Inserts `row` with what its creation writes beside it, in one transaction.
    pub async fn insert_process<R: ProcessRow>(
        &self,
        row: &R,
        change: &Change,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        let sql = insert_sql::<R>();
        R::COLUMNS
            .split(", ")
            .fold(sqlx::query(&sql), |query, column| row.bind(column, query))
            .execute(&mut *tx)
            .await?;
        write_change(&mut tx, row.common().id, change).await?;
        if R::CACHED {
            super::data_plane_version::bump(&mut tx).await?;
        }
        tx.commit().await?;
        if R::CACHED {
            self.bump_generation();
        }
        Ok(())
    }

    /// Saves `row` if its stored version is still one less than its own; false means someone else changed it first.
    pub async fn update_process<R: ProcessRow>(
        &self,
        row: &R,
        change: &Change,
    ) -> Result<bool, StorageError> {
        let Common { id, version, .. } = row.common();
        let mut tx = self.pool().begin().await?;
        let sql = update_sql::<R>();
        let done = R::UPDATED
            .split(", ")
            .fold(sqlx::query(&sql), |query, column| row.bind(column, query))
            .bind(version)
            .bind(now_text())
            .bind(id)
            .bind(version - 1)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_change(&mut tx, id, change).await?;
        if R::CACHED {
            super::data_plane_version::bump(&mut tx).await?;
        }
        tx.commit().await?;
        if R::CACHED {
            self.bump_generation();
        }
        Ok(true)
    }

    /// The first row of `R`'s table that `rest` (a filter on `$1, $2, …` and an order) selects with `values`.
    async fn find_process<R: ProcessRow>(
        &self,
        rest: &str,
        values: &[&str],
    ) -> Result<Option<R>, StorageError> {
        let sql = select::<R>(rest);
        let query = values
            .iter()
            .fold(sqlx::query(&sql), |query, value| query.bind(*value));
        let row = query.fetch_optional(self.pool()).await?;
        row.as_ref().map(R::from_row).transpose()
    }

    pub async fn process<R: ProcessRow>(&self, id: &str) -> Result<Option<R>, StorageError> {
        self.find_process("WHERE id = $1", &[id]).await
    }

    /// The process we hold in `role` whose own pid (provider pid for a provider, consumer pid for a consumer) is
    /// `pid`.
    pub async fn process_by_pid<R: ProcessRow>(
        &self,
        role: &str,
        pid: &str,
    ) -> Result<Option<R>, StorageError> {
        let column = own_pid_column(role);
        self.find_process(&format!("WHERE role = $1 AND {column} = $2"), &[role, pid])
            .await
    }

    /// The process we hold in `role` with `partner` whose partner's pid (the consumer pid when we provide, the
    /// provider pid when we consume) is `pid`: the process a repeated creating message refers to.
    pub async fn process_by_partner_pid<R: ProcessRow>(
        &self,
        role: &str,
        partner: &str,
        pid: &str,
    ) -> Result<Option<R>, StorageError> {
        let column = partner_pid_column(role);
        self.find_process(
            &format!(
                "WHERE role = $1 AND partner = $2 AND {column} = $3 ORDER BY created_at, id LIMIT 1"
            ),
            &[role, partner, pid],
        )
        .await
    }

    pub async fn processes<R: ProcessRow>(&self) -> Result<Vec<R>, StorageError> {
        let rows = sqlx::query(&select::<R>("ORDER BY created_at, id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(R::from_row).collect()
    }

    /// One page of `R`'s processes that `filter` selects, oldest first (creation time, then id).
    pub async fn processes_page<R: ProcessRow>(
        &self,
        filter: &ProcessFilter,
        page: &PageRequest,
    ) -> Result<Page<R>, StorageError> {
        let mut c = Conditions::default();
        c.equals("state", filter.state.as_deref());
        c.equals("role", filter.role.as_deref());
        c.equals("partner", filter.partner.as_deref());
        c.equals("agreement_id", filter.agreement.as_deref());
        if let Some(dataset) = &filter.dataset {
            c.add(R::DATASET_CONDITION, &[dataset]);
        }
        c.within("created_at", &filter.created);
        c.within("updated_at", &filter.updated);
        let (rest, args) = c.page(&["created_at", "id"], page);
        let sql = select::<R>(&rest);
        let query = args
            .iter()
            .fold(sqlx::query(&sql), |query, value| query.bind(value));
        let rows = query.fetch_all(self.pool()).await?;
        let rows = rows
            .iter()
            .map(R::from_row)
            .collect::<Result<Vec<R>, _>>()?;
        Ok(paged(rows, page, |r| {
            let c = r.common();
            vec![c.created_at.to_string(), c.id.to_string()]
        }))
    }

    pub async fn negotiation(&self, id: &str) -> Result<Option<NegotiationRecord>, StorageError> {
        self.process(id).await
    }

    pub async fn negotiations(&self) -> Result<Vec<NegotiationRecord>, StorageError> {
        self.processes().await
    }

    pub async fn transfer(&self, id: &str) -> Result<Option<TransferRecord>, StorageError> {
        self.process(id).await
    }

    pub async fn transfers(&self) -> Result<Vec<TransferRecord>, StorageError> {
        self.processes().await
    }

    /// The provider-side transfer an access token was issued for.
    pub async fn transfer_by_token_hash(
        &self,
        hash: &str,
    ) -> Result<Option<TransferRecord>, StorageError> {
        Ok(self.serving_transfer(hash).await?.map(|(t, _)| t))
    }

    /// The transfer a data-plane token belongs to, with the state our latest message still awaiting the partner's
    /// acknowledgement leads to (one query: the data plane reads this on every request it cannot answer from its
    /// cache).
    pub async fn serving_transfer(
        &self,
        hash: &str,
    ) -> Result<Option<(TransferRecord, Option<String>)>, StorageError> {
        let row = sqlx::query(&format!(
            "SELECT {}, (SELECT o.transition_to FROM outbox o WHERE o.process_id = transfers.id \
             AND o.status = 'pending' AND o.transition_to IS NOT NULL ORDER BY o.id DESC LIMIT 1) AS planned_state \
             FROM transfers WHERE token_hash = $1",
            TransferRecord::COLUMNS
        ))
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(|r| Ok((TransferRecord::from_row(r)?, r.try_get("planned_state")?)))
            .transpose()
    }

    pub async fn history(&self, process_id: &str) -> Result<Vec<HistoryEntry>, StorageError> {
        let rows = sqlx::query("SELECT at, from_state, to_state, event, detail FROM process_history WHERE process_id = $1 ORDER BY seq")
            .bind(process_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    at: r.try_get("at")?,
                    from_state: r.try_get("from_state")?,
                    to_state: r.try_get("to_state")?,
                    event: r.try_get("event")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Adds history lines without a state change (e.g. "waiting for operator approval").
    pub async fn note(
        &self,
        process_id: &str,
        state: &str,
        event: &str,
        detail: Option<String>,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        write_change(
            &mut tx,
            process_id,
            &Change::new().history(Some(state), state, event, detail),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bind` knows every column the queries name: an unknown one would stop the connector at its first write.
    fn binds_every_column<R: ProcessRow>(row: &R) {
        for columns in [R::COLUMNS, R::UPDATED] {
            for column in columns.split(',').map(str::trim) {
                let _ = row.bind(column, sqlx::query("SELECT 1"));
            }
        }
    }

    #[test]
    fn every_named_column_is_bound() {
        let text = || "x".to_string();
        binds_every_column(&NegotiationRecord {
            id: text(),
            role: text(),
            provider_pid: None,
            consumer_pid: None,
            partner: text(),
            state: text(),
            dataset: text(),
            offer: Value::Null,
            offer_by: text(),
            peer_address: None,
            purpose: None,
            agreement_id: None,
            waiting_for: None,
            version: 0,
            created_at: text(),
            updated_at: text(),
        });
        binds_every_column(&TransferRecord {
            id: text(),
            role: text(),
            provider_pid: None,
            consumer_pid: None,
            partner: text(),
            agreement_id: text(),
            state: text(),
            format: text(),
            peer_address: None,
            data_address: None,
            token_hash: None,
            token_expires: None,
            version: 0,
            created_at: text(),
            updated_at: text(),
        });
    }
}
