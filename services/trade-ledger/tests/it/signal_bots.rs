//! `qry.ledger.signal_bots`: the partner's webhook bots that listen to a signal token, any
//! status, never another partner's, never a deleted one.

use crate::live_events::Ledger;
use bus::messages::hosted::{Desired, SetHostedBotStatus};
use bus::messages::signals::{FindSignalBots, SignalBot, SignalBotKind};
use diesel_async::AsyncConnection;
use domain::{BotId, PartnerId, UserId};
use std::time::Duration;
use trade_ledger::usecase::hosted_bots::{self, writes};

impl Ledger {
    async fn webhook(&self, partner: PartnerId, user: UserId, token: &str) -> BotId {
        let settings = format!(r#"{{"symbol":"SIM_BTC_USDT_","signalToken":"{token}"}}"#);
        self.bot(partner, user, "webhook", &settings).await
    }

    async fn signal_bots(&self, partner: PartnerId, token: &str) -> Vec<SignalBot> {
        let client = self.nats.client().await;
        let request = FindSignalBots { partner_id: partner, signal_token: token.into() };
        bus::request(&client, &self.nats.subjects().signal_bots(), &request, Duration::from_secs(5)).await.unwrap()
    }
}

#[tokio::test]
async fn a_token_finds_the_partners_webhook_bots_of_any_status_and_nothing_else() {
    let ledger = Ledger::started().await;
    let (partner, user) = ledger.partner_with_user("Signals").await;
    let (other_partner, other_user) = ledger.partner_with_user("Another").await;
    let running = ledger.webhook(partner, user, "tok").await;
    let stopped = ledger.webhook(partner, user, "tok").await;
    let deleted = ledger.webhook(partner, user, "tok").await;
    ledger.webhook(partner, user, "other-token").await;
    ledger.webhook(other_partner, other_user, "tok").await;
    let grid =
        r#"{"symbol":"SIM_BTC_USDT_","lowerLimit":28000,"upperLimit":32000,"gridCount":8,"investmentAmount":9900}"#;
    ledger.bot(partner, user, "spot_grid", grid).await;

    let subjects = ledger.nats.subjects();
    let mut connection = ledger.db.connect().await;
    connection
        .transaction::<_, anyhow::Error, _>(async |tx| {
            let stop = SetHostedBotStatus {
                partner_id: partner,
                bot_id: hosted_bots::wire_id(stopped),
                desired: Desired::Stopped,
            };
            writes::set_status(tx, &subjects, stop).await?;
            writes::delete_bot(tx, &subjects, deleted).await?;
            Ok(())
        })
        .await
        .unwrap();

    // In id order (the bots were made in this order, and ids are time-ordered), each at the
    // revision the ledger holds: the stop made revision 2.
    let expected = vec![
        SignalBot { bot_id: running, kind: SignalBotKind::Hosted, running: true, revision: 1 },
        SignalBot { bot_id: stopped, kind: SignalBotKind::Hosted, running: false, revision: 2 },
    ];
    assert_eq!(ledger.signal_bots(partner, "tok").await, expected);
    assert_eq!(ledger.signal_bots(partner, "TOK").await, [], "tokens are compared exactly");
    assert_eq!(ledger.signal_bots(partner, "unknown").await, []);
    let theirs = ledger.signal_bots(other_partner, "tok").await;
    assert_eq!(theirs.len(), 1, "the other partner's own bot only");
    assert!(!expected.iter().any(|bot| bot.bot_id == theirs[0].bot_id));
}
