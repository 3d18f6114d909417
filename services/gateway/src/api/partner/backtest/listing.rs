//! `logs` and `positions` of a completed backtest: `data` is the array reference 003 shows.
//!
//! The executor answers in pages that each stay far below NATS's 1 MiB payload (at most
//! `limit` items and about 256 KiB). Without `limit` the gateway walks those pages and streams
//! the array as it goes, so neither a NATS reply nor the gateway's memory holds the whole list:
//!
//! ```text
//!  executor page 1 ──► {"isSuccess":true,...,"data":[ item,item ─┐
//!  executor page 2 ──►                                 ,item,item ├─ one chunked HTTP body,
//!  ...                                                            │  asked for page by page
//!  last page       ──►                                 ,item ]}  ─┘  as the client reads
//! ```
//!
//! The first page is asked for before the response starts, so an unknown or unfinished
//! backtest, a bad token or a missing executor still answers its own status and code. A page
//! that fails later cannot change a status already sent: the body is cut short (no closing
//! `]}`), which a client sees as a broken response rather than a shorter list.
//!
//! With `limit` the reply is one executor page, and the token of the next one is the
//! `X-Next-Page-Id` header (absent on the last page).

use super::super::errors::{PartnerApiError, success};
use crate::api::errors::CommonError;
use crate::state::AppState;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use bus::RequestError;
use bus::messages::backtest::{BacktestPage, BacktestRef, GetBacktestLogs, GetBacktestPositions};
use futures::{StreamExt, stream};
use serde::Deserialize;
use serde_json::value::RawValue;
use tracing::error;

/// The response header that carries the next page's token.
pub const NEXT_PAGE_HEADER: &str = "x-next-page-id";

/// The most items one page may ask for; also the size of the pages the gateway walks.
pub const MAX_LIMIT: u32 = 10_000;

const HEAD: &str = r#"{"isSuccess":true,"code":0,"message":"","data":["#;
const TAIL: &str = "]}";

/// The query of `logs` and `positions`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Items in one page, 1–10,000. Without it the whole list (after `nextPageId`, if given)
    /// comes back in one response. A page also stops near 256 KiB, so it may hold fewer
    /// items; follow `X-Next-Page-Id` until it is absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    limit: Option<String>,
    /// The `X-Next-Page-Id` of the previous page, as it came (an opaque token; `selection`
    /// checks the same pattern). Empty counts as absent.
    #[param(pattern = "^[0-9]{0,9}$")]
    next_page_id: Option<String>,
}

/// The list a route reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    /// The structured log lines.
    Logs,
    /// The positions with their entry and exit orders.
    Positions,
}

/// What the query asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every item after the token (from the first without one), in one streamed response.
    All {
        /// The token to start after.
        after: Option<String>,
    },
    /// One page of at most `limit` items.
    Page {
        /// 1–10,000.
        limit: u32,
        /// The token to start after.
        after: Option<String>,
    },
}

/// Reads `limit` and `nextPageId`; a bad value is a validation error naming the parameter.
pub fn selection(query: &str) -> Result<Selection, PartnerApiError> {
    let invalid = |message: &str| PartnerApiError::Validation(message.to_string());
    let query = web::Query::<Paging>::from_query(query)
        .map_err(|_| invalid("Invalid query string: limit and nextPageId may each be given once"))?
        .into_inner();
    let after = match query.next_page_id.filter(|token| !token.is_empty()) {
        None => None,
        Some(token) if (1..=9).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_digit()) => Some(token),
        Some(_) => return Err(invalid("nextPageId must be the X-Next-Page-Id of a previous page")),
    };
    let Some(limit) = query.limit else { return Ok(Selection::All { after }) };
    let limit = limit
        .parse::<u32>()
        .ok()
        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
        .ok_or_else(|| invalid("limit must be an integer between 1 and 10000"))?;
    Ok(Selection::Page { limit, after })
}

/// Answers `GET .../logs` or `.../positions` of an authenticated partner's backtest.
pub async fn respond(
    request: &HttpRequest,
    state: &AppState,
    listing: Listing,
    reference: BacktestRef,
) -> Result<HttpResponse, PartnerApiError> {
    match selection(request.query_string())? {
        Selection::Page { limit, after } => {
            let page = fetch(state, listing, &reference, limit, after)
                .await
                .map_err(PartnerApiError::from_backtest_request)?;
            let mut response = success(page.items.get());
            if let Some(next) = page.next_page_id {
                let value = HeaderValue::from_str(&next)
                    .map_err(|_| internal(&reference, "a page token that is not a header value"))?;
                response.headers_mut().insert(HeaderName::from_static(NEXT_PAGE_HEADER), value);
            }
            Ok(response)
        }
        Selection::All { after } => {
            let first = fetch(state, listing, &reference, MAX_LIMIT, after)
                .await
                .map_err(PartnerApiError::from_backtest_request)?;
            let Some(next) = first.next_page_id else { return Ok(success(first.items.get())) };
            let mut walk = Walk { state: state.clone(), listing, reference, any: false };
            let head = walk.chunk(HEAD, &first.items, Some(&next)).map_err(|_| {
                internal(&walk.reference, "a first page that is not an array, or empty with a next token")
            })?;
            // `None` ends the stream: after the last page (whose chunk carries the closing
            // `]}`) and after a failed page (so the body is cut short).
            let rest = stream::unfold((walk, Some(next)), |(mut walk, next)| async move {
                let after = next?;
                Some(match walk.next_chunk(after).await {
                    Ok((chunk, next)) => (Ok(chunk), (walk, next)),
                    Err(failure) => (Err(failure), (walk, None)),
                })
            });
            let body = stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(rest);
            Ok(HttpResponse::Ok().content_type("application/json").streaming(body))
        }
    }
}

fn internal(reference: &BacktestRef, what: &str) -> PartnerApiError {
    error!(backtest.id = %reference.backtest_id, "the backtest-executor answered {what}");
    PartnerApiError::Common(CommonError::Internal)
}

/// One executor page.
async fn fetch(
    state: &AppState,
    listing: Listing,
    reference: &BacktestRef,
    limit: u32,
    next_page_id: Option<String>,
) -> Result<BacktestPage, RequestError> {
    let (partner_id, backtest_id) = (reference.partner_id, reference.backtest_id);
    match listing {
        Listing::Logs => {
            let query = GetBacktestLogs { partner_id, backtest_id, limit, next_page_id };
            bus::request(&state.nats, &state.subjects.backtest_logs(), &query, state.backend_timeout()).await
        }
        Listing::Positions => {
            let query = GetBacktestPositions { partner_id, backtest_id, limit, next_page_id };
            bus::request(&state.nats, &state.subjects.backtest_positions(), &query, state.backend_timeout()).await
        }
    }
}

/// The walk over the executor's pages behind one streamed response.
struct Walk {
    state: AppState,
    listing: Listing,
    reference: BacktestRef,
    /// Whether an item was written yet (the next one needs a comma).
    any: bool,
}

impl Walk {
    /// `prefix`, the page's items without their brackets and, after the last page, the
    /// closing `]}`. A page that leaves more to read must hold an item, or the walk would not
    /// advance.
    fn chunk(&mut self, prefix: &str, items: &RawValue, next: Option<&str>) -> Result<Bytes, ()> {
        let inner = items.get().trim().strip_prefix('[').and_then(|text| text.strip_suffix(']')).ok_or(())?.trim();
        if inner.is_empty() && next.is_some() {
            return Err(());
        }
        let mut chunk = String::with_capacity(prefix.len() + inner.len() + TAIL.len() + 1);
        chunk.push_str(prefix);
        if !inner.is_empty() {
            if self.any {
                chunk.push(',');
            }
            chunk.push_str(inner);
            self.any = true;
        }
        if next.is_none() {
            chunk.push_str(TAIL);
        }
        Ok(Bytes::from(chunk))
    }

    /// The page after `after`: its chunk and the next token.
    async fn next_chunk(&mut self, after: String) -> Result<(Bytes, Option<String>), std::io::Error> {
        let backtest_id = self.reference.backtest_id;
        let page = fetch(&self.state, self.listing, &self.reference, MAX_LIMIT, Some(after.clone())).await.map_err(
            |failure| {
                error!(backtest.id = %backtest_id, error = %failure, "a later page failed; the response is cut short");
                std::io::Error::other("a later page of the list failed")
            },
        )?;
        // A token that repeats the one asked for would loop for ever.
        let stuck = page.next_page_id.as_deref() == Some(after.as_str());
        let chunk = if stuck { Err(()) } else { self.chunk("", &page.items, page.next_page_id.as_deref()) };
        let chunk = chunk.map_err(|()| {
            error!(backtest.id = %backtest_id, "the backtest-executor answered a page that does not advance");
            std::io::Error::other("the list's pages did not advance")
        })?;
        Ok((chunk, page.next_page_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(query: &str) -> String {
        match selection(query) {
            Err(PartnerApiError::Validation(message)) => message,
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn the_query_selects_the_whole_list_or_one_page() {
        assert_eq!(selection(""), Ok(Selection::All { after: None }));
        assert_eq!(selection("nextPageId=&x=1"), Ok(Selection::All { after: None }));
        assert_eq!(selection("nextPageId=41"), Ok(Selection::All { after: Some("41".into()) }));
        assert_eq!(selection("limit=1"), Ok(Selection::Page { limit: 1, after: None }));
        let last = Selection::Page { limit: 10_000, after: Some("999999999".into()) };
        assert_eq!(selection("limit=10000&nextPageId=999999999"), Ok(last));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        for query in ["limit=0", "limit=10001", "limit=-1", "limit=", "limit=x", "limit=1&limit=2"] {
            assert!(refused(query).contains("limit"), "{query}");
        }
        for query in ["nextPageId=a1", "nextPageId=-1", "nextPageId=1234567890", "limit=3&nextPageId=1.5"] {
            assert!(refused(query).starts_with("nextPageId"), "{query}");
        }
    }
}
