//! Per-client rate limits: a token bucket per API key, or per client IP for a request that
//! carries none, with limits per API family from `gateway.rate_limits`. It runs before
//! anything else, so a refused request never costs a backend round trip (not even the
//! ledger's key check) and never reaches a backend.
//!
//! ```text
//!  request ──► /health, /ready? ──yes──► on (probes are never refused)
//!                 │ no
//!                 ▼
//!  family of the path ──► client: SHA-256 of the key (x-api-key / Authorization), else the IP
//!                 │
//!                 ▼
//!  that family's limiter (GCRA, governor) ──allowed──► on to routing, 405, 413, the handler
//!                 │ refused
//!                 ▼
//!  429 in the family's shape, `Retry-After` in whole seconds
//! ```
//!
//! The buckets live in `store::BoundedStore`: one timestamp per client. A bucket that has refilled
//! equals a fresh one, so a periodic sweep drops it; past `max_clients` the oldest bucket is
//! dropped to make room, so a flood of made-up keys costs bounded memory (it can only reset
//! other clients' buckets early, never block them). The raw key is never kept: only a
//! truncated SHA-256 of it.

use super::errors::CommonError;
use super::family::Family;
use crate::settings::{RateLimit, RateLimits};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use store::BoundedStore;

mod store;

/// Paths that are never limited: liveness and readiness probes must always get an answer.
const EXEMPT: [&str; 2] = ["/health", "/ready"];

/// Whether requests to `path` draw from a bucket (every path but the probes').
pub fn is_limited(path: &str) -> bool {
    !EXEMPT.contains(&path)
}

/// Checks between two sweeps of refilled buckets, per family. A sweep walks the whole table
/// under its lock, so it runs now and then rather than on every request.
const SWEEP_EVERY: u64 = 1024;

/// Whose bucket a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Client {
    /// A credential: the first 16 bytes of its SHA-256 (the raw key is never stored).
    Key([u8; 16]),
    /// No credential: the client's IP address (an IPv6 client by its /64, which one host
    /// usually holds whole).
    Ip(IpAddr),
}

impl Client {
    /// The bucket of a request in `family`: its key when it sends one, else its address.
    pub fn of(family: Family, headers: &actix_web::http::header::HeaderMap, peer: Option<IpAddr>) -> Self {
        let credential = match family {
            Family::Bot | Family::Partner => headers.get("x-api-key"),
            Family::User => headers.get(actix_web::http::header::AUTHORIZATION),
        };
        let credential = credential
            .map(HeaderValue::as_bytes)
            // The User API accepts a token with or without `Bearer `: one bucket for both.
            .map(|value| value.strip_prefix(b"Bearer ").unwrap_or(value))
            .filter(|value| !value.is_empty());
        match credential {
            Some(value) => {
                let digest = Sha256::digest(value);
                let mut key = [0u8; 16];
                key.copy_from_slice(&digest[..16]);
                Client::Key(key)
            }
            None => Client::Ip(peer.map_or(IpAddr::from([0, 0, 0, 0]), network)),
        }
    }
}

/// The address a bucket is kept for: IPv4 as it is, IPv6 cut to its /64.
fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

type Limiter<C> = RateLimiter<Client, BoundedStore, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// One family's limiter and its sweep counter.
struct FamilyLimiter<C: Clock> {
    limiter: Limiter<C>,
    checks: AtomicU64,
}

impl<C: Clock> FamilyLimiter<C> {
    fn new(limit: RateLimit, capacity: usize, clock: C) -> Self {
        let quota = Quota::per_second(NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN));
        Self { limiter: RateLimiter::new(quota, BoundedStore::new(capacity), clock), checks: AtomicU64::new(0) }
    }

    fn check(&self, client: &Client) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(client).map_err(|refused| refused.wait_time_from(self.limiter.clock().now()))
    }
}

/// The limiters of the three families, shared by every HTTP worker (app data).
pub struct RateLimiters<C: Clock = DefaultClock> {
    bot: FamilyLimiter<C>,
    partner: FamilyLimiter<C>,
    user: FamilyLimiter<C>,
}

impl RateLimiters {
    /// Limiters on the monotonic clock.
    pub fn new(limits: &RateLimits) -> Self {
        Self::with_clock(limits, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiters<C> {
    /// Limiters on `clock` (tests pass a clock they move by hand).
    pub fn with_clock(limits: &RateLimits, clock: C) -> Self {
        Self {
            bot: FamilyLimiter::new(limits.bot, limits.max_clients, clock.clone()),
            partner: FamilyLimiter::new(limits.partner, limits.max_clients, clock.clone()),
            user: FamilyLimiter::new(limits.user, limits.max_clients, clock),
        }
    }

    fn family(&self, family: Family) -> &FamilyLimiter<C> {
        match family {
            Family::Bot => &self.bot,
            Family::Partner => &self.partner,
            Family::User => &self.user,
        }
    }

    /// Takes a token from `client`'s bucket in `family`, or says how long until one is there.
    pub fn check(&self, family: Family, client: &Client) -> Result<(), Duration> {
        self.family(family).check(client)
    }

    /// Drops every bucket that has refilled (it equals a fresh one).
    pub fn sweep(&self) {
        for family in [Family::Bot, Family::Partner, Family::User] {
            self.family(family).limiter.retain_recent();
        }
    }

    /// Buckets held for `family`.
    pub fn tracked(&self, family: Family) -> usize {
        self.family(family).limiter.len()
    }
}

/// The 429 of `family`, with the wait in whole seconds (rounded up, at least 1).
pub fn too_many_requests(family: Family, wait: Duration) -> HttpResponse {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = CommonError::RateLimited.respond(family);
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// Middleware: the client's bucket of the request's family, before routing.
pub async fn enforce(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let path = request.path();
    let limiters = request.app_data::<web::Data<RateLimiters>>();
    let (Some(limiters), true) = (limiters, is_limited(path)) else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let family = Family::of(path);
    let client = Client::of(family, request.headers(), request.peer_addr().map(|addr| addr.ip()));
    match limiters.check(family, &client) {
        Ok(()) => Ok(next.call(request).await?.map_into_left_body()),
        Err(wait) => Ok(request.into_response(too_many_requests(family, wait)).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderName};
    use governor::clock::FakeRelativeClock;

    fn limits(per_second: u32, burst: u32, max_clients: usize) -> RateLimits {
        let limit = RateLimit { per_second, burst };
        RateLimits { bot: limit, partner: limit, user: limit, max_clients }
    }

    fn key(name: &str) -> Client {
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static("x-api-key"), HeaderValue::from_str(name).unwrap());
        Client::of(Family::Bot, &headers, None)
    }

    #[test]
    fn a_burst_is_allowed_then_refused_until_the_bucket_refills() {
        let clock = FakeRelativeClock::default();
        let limiters = RateLimiters::with_clock(&limits(2, 3, 100), clock.clone());
        for _ in 0..3 {
            assert_eq!(limiters.check(Family::Bot, &key("a")), Ok(()));
        }
        let wait = limiters.check(Family::Bot, &key("a")).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500), "one token every 1/2 s");
        clock.advance(Duration::from_millis(499));
        assert!(limiters.check(Family::Bot, &key("a")).is_err());
        clock.advance(Duration::from_millis(1));
        assert_eq!(limiters.check(Family::Bot, &key("a")), Ok(()));
        assert!(limiters.check(Family::Bot, &key("a")).is_err(), "one token came back, not more");
    }

    #[test]
    fn other_clients_and_other_families_keep_their_own_buckets() {
        let limiters = RateLimiters::with_clock(&limits(1, 1, 100), FakeRelativeClock::default());
        assert_eq!(limiters.check(Family::Bot, &key("a")), Ok(()));
        assert!(limiters.check(Family::Bot, &key("a")).is_err());
        assert_eq!(limiters.check(Family::Bot, &key("b")), Ok(()));
        assert_eq!(limiters.check(Family::Partner, &key("a")), Ok(()));
        assert_eq!(limiters.check(Family::User, &Client::Ip(IpAddr::from([10, 0, 0, 1]))), Ok(()));
        assert_eq!(limiters.check(Family::User, &Client::Ip(IpAddr::from([10, 0, 0, 2]))), Ok(()));
    }

    #[test]
    fn each_family_has_its_own_limit() {
        let mut settings = limits(1, 1, 100);
        settings.partner = RateLimit { per_second: 1, burst: 5 };
        let limiters = RateLimiters::with_clock(&settings, FakeRelativeClock::default());
        assert!((0..5).all(|_| limiters.check(Family::Partner, &key("a")).is_ok()));
        assert!(limiters.check(Family::Partner, &key("a")).is_err());
        assert!(limiters.check(Family::Bot, &key("a")).is_ok());
        assert!(limiters.check(Family::Bot, &key("a")).is_err());
    }

    #[test]
    fn refilled_buckets_are_swept_and_the_table_never_passes_its_bound() {
        let clock = FakeRelativeClock::default();
        let limiters = RateLimiters::with_clock(&limits(10, 2, 50), clock.clone());
        for n in 0..500 {
            limiters.check(Family::Bot, &key(&format!("k{n}"))).unwrap();
            assert!(limiters.tracked(Family::Bot) <= 50);
        }
        assert_eq!(limiters.tracked(Family::Bot), 50);
        // `busy` spends its 2 tokens; the others have had theirs back for a while and equal
        // fresh buckets, which a sweep forgets.
        clock.advance(Duration::from_millis(150));
        limiters.check(Family::Bot, &key("busy")).unwrap();
        limiters.check(Family::Bot, &key("busy")).unwrap();
        clock.advance(Duration::from_millis(50));
        limiters.sweep();
        assert_eq!(limiters.tracked(Family::Bot), 1, "only the bucket still short of tokens stays");
        assert!(limiters.check(Family::Bot, &key("busy")).is_err(), "the kept bucket still counts");
    }

    #[test]
    fn a_full_table_drops_its_oldest_bucket_first() {
        let limiters = RateLimiters::with_clock(&limits(1, 1, 2), FakeRelativeClock::default());
        limiters.check(Family::Bot, &key("first")).unwrap();
        limiters.check(Family::Bot, &key("second")).unwrap();
        limiters.check(Family::Bot, &key("third")).unwrap();
        assert!(limiters.check(Family::Bot, &key("second")).is_err(), "second is still tracked");
        assert!(limiters.check(Family::Bot, &key("third")).is_err(), "third is tracked");
        assert_eq!(limiters.check(Family::Bot, &key("first")), Ok(()), "first was dropped: a fresh bucket");
    }

    #[test]
    fn the_sweep_runs_by_itself_every_so_many_checks() {
        let clock = FakeRelativeClock::default();
        let limiters = RateLimiters::with_clock(&limits(1000, 1, 100_000), clock.clone());
        for n in 0..SWEEP_EVERY - 1 {
            limiters.check(Family::User, &key(&format!("k{n}"))).unwrap();
        }
        assert_eq!(limiters.tracked(Family::User), usize::try_from(SWEEP_EVERY - 1).unwrap());
        clock.advance(Duration::from_secs(1));
        limiters.check(Family::User, &key("last")).unwrap();
        assert_eq!(limiters.tracked(Family::User), 1, "the refilled buckets went at the 1024th check");
    }

    #[test]
    fn a_bucket_is_keyed_by_a_hash_of_the_credential_never_the_credential() {
        let Client::Key(hashed) = key("tb_0123456789ab_secret") else { panic!("a key makes a key bucket") };
        assert!(!hashed.windows(6).any(|window| window == b"secret"));
        assert_eq!(key("tb_0123456789ab_secret"), key("tb_0123456789ab_secret"));
        assert_ne!(key("a"), key("b"));
    }

    #[test]
    fn without_a_credential_the_bucket_is_the_clients_address() {
        let headers = HeaderMap::new();
        let v4 = IpAddr::from([192, 0, 2, 7]);
        assert_eq!(Client::of(Family::Bot, &headers, Some(v4)), Client::Ip(v4));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(Client::of(Family::Partner, &headers, Some(mapped)), Client::Ip(v4));
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(Client::of(Family::User, &headers, Some(a)), Client::of(Family::User, &headers, Some(b)));
        assert_eq!(Client::of(Family::User, &headers, Some(a)), Client::Ip("2001:db8:1:2::".parse().unwrap()));
        let mut empty_key = HeaderMap::new();
        empty_key.insert(HeaderName::from_static("x-api-key"), HeaderValue::from_static(""));
        assert_eq!(Client::of(Family::Bot, &empty_key, Some(v4)), Client::Ip(v4), "an empty key is no key");
    }

    #[test]
    fn the_user_api_keys_on_its_token_with_or_without_bearer() {
        let with_bearer = {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer tok"));
            Client::of(Family::User, &headers, None)
        };
        let bare = {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_static("tok"));
            Client::of(Family::User, &headers, None)
        };
        assert_eq!(with_bearer, bare);
        assert!(matches!(bare, Client::Key(_)));
        // x-api-key is not the User API's credential.
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static("x-api-key"), HeaderValue::from_static("tok"));
        assert!(matches!(Client::of(Family::User, &headers, None), Client::Ip(_)));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let header = |wait| too_many_requests(Family::Bot, wait).headers().get(RETRY_AFTER).cloned().unwrap();
        assert_eq!(header(Duration::from_millis(1)), "1");
        assert_eq!(header(Duration::ZERO), "1");
        assert_eq!(header(Duration::from_millis(1000)), "1");
        assert_eq!(header(Duration::from_millis(1001)), "2");
        assert_eq!(too_many_requests(Family::Partner, Duration::ZERO).status().as_u16(), 429);
    }
}
