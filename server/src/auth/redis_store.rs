//! Sessions in Redis, for several Bedside processes behind one load balancer.
//!
//! `bedside:session:<id>` holds the record as JSON and expires with the session's absolute end;
//! `bedside:user-sessions:<user>` is the set of a person's session ids, for "sign out
//! everywhere" and the sessions list. Idle timeouts are checked by `session::check`, the same
//! code as with the database store.

use app::auth::session::{SessionRecord, SessionStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::{aio::ConnectionManager, AsyncCommands};

#[derive(Clone)]
pub struct RedisSessionStore {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn redis_err(err: redis::RedisError) -> StoreError {
    StoreError(format!("redis: {err}"))
}

impl RedisSessionStore {
    /// Connects to `url`. `prefix` namespaces the keys (tests use a fresh one each).
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client).await?;
        Ok(RedisSessionStore {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    fn session_key(&self, id: &str) -> String {
        format!("{}session:{id}", self.prefix)
    }

    fn user_key(&self, user_id: i32) -> String {
        format!("{}user-sessions:{user_id}", self.prefix)
    }

    async fn write(&self, record: &SessionRecord, now: DateTime<Utc>) -> Result<(), StoreError> {
        let ttl = (record.expires_at - now).num_seconds();
        if ttl <= 0 {
            return Ok(());
        }
        let json = serde_json::to_string(record).map_err(|e| StoreError(e.to_string()))?;
        let mut conn = self.connection.clone();
        redis::pipe()
            .atomic()
            .set_ex(self.session_key(&record.id), json, ttl as u64)
            .sadd(self.user_key(record.user_id), &record.id)
            .exec_async(&mut conn)
            .await
            .map_err(redis_err)
    }
}

impl RedisSessionStore {
    /// Records activity on a session read a moment ago, only if it still exists (`SET … XX`,
    /// one atomic command): a sign-out between the read and this write stays a sign-out, where
    /// a plain `SET` would bring the session back.
    pub async fn refresh(
        &self,
        mut record: SessionRecord,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        record.last_seen_at = at;
        let ttl = (record.expires_at - at).num_seconds();
        if ttl <= 0 {
            return Ok(());
        }
        let json = serde_json::to_string(&record).map_err(|e| StoreError(e.to_string()))?;
        let mut conn = self.connection.clone();
        let _: Option<String> = redis::cmd("SET")
            .arg(self.session_key(&record.id))
            .arg(json)
            .arg("EX")
            .arg(ttl)
            .arg("XX")
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(())
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn insert(&self, record: &SessionRecord) -> Result<(), StoreError> {
        self.write(record, record.last_seen_at).await
    }

    async fn get(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let mut conn = self.connection.clone();
        let json: Option<String> = conn.get(self.session_key(id)).await.map_err(redis_err)?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError(e.to_string())))
            .transpose()
    }

    async fn touch(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(record) = self.get(id).await? {
            self.refresh(record, at).await?;
        }
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), StoreError> {
        let Some(record) = self.get(id).await? else {
            return Ok(());
        };
        let mut conn = self.connection.clone();
        redis::pipe()
            .atomic()
            .del(self.session_key(id))
            .srem(self.user_key(record.user_id), id)
            .exec_async(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn remove_all_for_user(
        &self,
        user_id: i32,
        except: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.connection.clone();
        let ids: Vec<String> = conn
            .smembers(self.user_key(user_id))
            .await
            .map_err(redis_err)?;
        let mut removed = 0u64;
        for id in ids.iter().filter(|id| Some(id.as_str()) != except) {
            let deleted: u64 = conn.del(self.session_key(id)).await.map_err(redis_err)?;
            let _: u64 = conn
                .srem(self.user_key(user_id), id)
                .await
                .map_err(redis_err)?;
            removed += deleted;
        }
        Ok(removed)
    }

    async fn list_for_user(&self, user_id: i32) -> Result<Vec<SessionRecord>, StoreError> {
        let mut conn = self.connection.clone();
        let ids: Vec<String> = conn
            .smembers(self.user_key(user_id))
            .await
            .map_err(redis_err)?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            match self.get(&id).await? {
                Some(record) => records.push(record),
                // Expired by Redis: forget the id too.
                None => {
                    let _: u64 = conn
                        .srem(self.user_key(user_id), &id)
                        .await
                        .map_err(redis_err)?;
                }
            }
        }
        records.sort_by_key(|r| std::cmp::Reverse(r.last_seen_at));
        Ok(records)
    }

    async fn purge_expired(&self, _now: DateTime<Utc>) -> Result<u64, StoreError> {
        // Redis expires sessions itself (the key's TTL is the absolute end).
        Ok(0)
    }
}
