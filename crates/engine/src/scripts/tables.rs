//! The settings of each script, as the partner API's `GET /scripts` lists them.

use rust_decimal::Decimal;

use super::{SettingMeta, SettingType, SettingValue};
use crate::settings::MAX_LEVERAGE;

/// A compact builder for the tables below.
struct S(SettingMeta);

impl S {
    fn new(key: &'static str, group: &'static str, name: &'static str, kind: SettingType, desc: &'static str) -> Self {
        S(SettingMeta {
            key,
            group,
            name,
            description: desc,
            kind,
            value: SettingValue::None,
            required: false,
            min: None,
            max: None,
            can_be_edited: false,
            options: Vec::new(),
            backtest_only: false,
        })
    }
    fn required(mut self) -> Self {
        self.0.required = true;
        self
    }
    fn value(mut self, v: SettingValue) -> Self {
        self.0.value = v;
        self
    }
    fn num(self, v: i64) -> Self {
        self.value(SettingValue::Number(Decimal::from(v)))
    }
    fn range(mut self, min: Option<i64>, max: Option<i64>) -> Self {
        self.0.min = min.map(Decimal::from);
        self.0.max = max.map(Decimal::from);
        self
    }
    fn options(mut self, o: &[&'static str]) -> Self {
        self.0.options = o.to_vec();
        self.0.value = SettingValue::Text(o[0]);
        self
    }
    fn editable(mut self) -> Self {
        self.0.can_be_edited = true;
        self
    }
    fn backtest_only(mut self) -> Self {
        self.0.backtest_only = true;
        self
    }
}

use SettingType as T;

fn symbol() -> S {
    S::new("symbol", "", "Symbol", T::String, "The symbol of the market the bot will run on").required()
}

fn interval() -> S {
    S::new(
        "interval",
        "Advanced Settings",
        "Interval",
        T::Number,
        "RSI bar length in minutes (live bots: default 1); backtests also use it as the candle interval (default: the finest timeframe stored for the market).",
    )
    .range(Some(1), None)
}

fn leverage() -> S {
    S::new("leverage", "Position", "Leverage", T::Number, "Leverage; isolated margin is notional / leverage.")
        .num(1)
        .range(Some(1), Some(i64::from(MAX_LEVERAGE)))
}

pub(super) fn grid(futures: bool) -> Vec<SettingMeta> {
    let mut v = vec![
        symbol(),
        S::new("lowerLimit", "Price range", "Lower limit", T::Number, "Lower price limit").required().range(Some(0), None),
        S::new("upperLimit", "Price range", "Upper limit", T::Number, "Upper price limit").required().range(Some(0), None),
        S::new(
            "gridMode",
            "Grid mode & quantity",
            "Grid mode",
            T::Option,
            "Grid mode. Arithmetic grid mode will place all grids evenly spaced based on a constant price difference between grids. Geometric grid mode will place all grids evenly spaced based on a constant percentage difference between grids.",
        )
        .options(&["Arithmetic", "Geometric"]),
        S::new("gridCount", "Grid mode & quantity", "Grid count", T::Number, "The amount of grids the price range is split into.")
            .required()
            .range(Some(1), Some(1000)),
    ];
    if !futures {
        v.push(
            S::new(
                "investmentAsset",
                "Investment amount",
                "Asset",
                T::Option,
                "Select the asset type in which the investment amount is based on. Example: on BTC/USDT market the Base option would point to BTC, and Quote option would point to USDT.",
            )
            .options(&["Base", "Quote"]),
        );
    }
    v.push(
        S::new(
            "investmentAmount",
            "Investment amount",
            "Amount",
            T::Number,
            "Total amount to be invested into the grid range. This amount is split among grids.",
        )
        .required()
        .range(Some(0), None),
    );
    if futures {
        v.push(leverage());
        v.push(
            S::new(
                "maxWin",
                "Safety settings",
                "Max. allowed win",
                T::Number,
                "Disabled if zero. Set the maximum win allowed (total profits). If reached, the bot will trigger a take-profit and deactivate.",
            )
            .num(0)
            .range(Some(0), None)
            .editable(),
        );
        v.push(
            S::new(
                "maxLoss",
                "Safety settings",
                "Max. allowed loss",
                T::Number,
                "Disabled if zero. Set the maximum loss allowed (total losses, as a positive number). If reached, the bot will close its positions and deactivate.",
            )
            .num(0)
            .range(Some(0), None)
            .editable(),
        );
    } else {
        v.push(
            S::new(
                "tradeToFillGrid",
                "Advanced Settings",
                "Trade to fill grids?",
                T::Boolean,
                "If true, bot will automatically buy or sell assets to fill both buy and sell grids.",
            )
            .value(SettingValue::Bool(false)),
        );
    }
    v.extend([
        S::new(
            "startCondition",
            "Advanced Settings",
            "Start condition",
            T::Option,
            "Instant condition will start the bot immediately. Price condition activates bot once price is above or below set start value. RSI condition will activate bot once RSI is above or below set start value. (NOTE: RSI uses the main interval setting and has 14 period length)",
        )
        .options(&["Instant", "Price", "RSI"]),
        S::new("startType", "Advanced Settings", "Start type", T::Option, "Activation on above or below start value.")
            .options(&["Above value", "Below value"]),
        S::new("startValue", "Advanced Settings", "Start value", T::Number, "The value for Price or RSI start conditions.")
            .num(0)
            .range(Some(0), None),
        S::new(
            "stopCondition",
            "Advanced Settings",
            "Stop condition",
            T::Option,
            "Manual condition never deactivate the bot. Price condition deactivates bot once price is above or below set stop value. RSI condition will deactivate bot once RSI is above or below set stop value. (NOTE: RSI uses the main interval setting and has 14 period length)",
        )
        .options(&["Manual", "Price", "RSI"])
        .editable(),
        S::new("stopType", "Advanced Settings", "Stop type", T::Option, "Deactivation on above or below stop value.")
            .options(&["Above value", "Below value"])
            .editable(),
        S::new("stopValue", "Advanced Settings", "Stop value", T::Number, "The value for Price or RSI stop conditions.")
            .num(0)
            .range(Some(0), None)
            .editable(),
        S::new(
            "stopExit",
            "Advanced Settings",
            "Stop exits",
            T::Boolean,
            "If true, bot will sell all bought assets when using [Below value] stop condition, or buy back when using [Above value] stop condition.",
        )
        .value(SettingValue::Bool(false))
        .editable(),
        interval(),
    ]);
    v.into_iter().map(|s| s.0).collect()
}

pub(super) fn dca(futures: bool) -> Vec<SettingMeta> {
    let mut v = vec![
        symbol(),
        S::new("direction", "Price Settings", "Direction", T::Option, "Trading direction").options(&["Buy", "Sell"]),
        S::new(
            "baseOrderAmount",
            "Order Settings",
            "Base order",
            T::Number,
            "Quote amount of the market order that opens a deal.",
        )
        .required()
        .range(Some(0), None),
        S::new(
            "safetyOrderAmount",
            "Order Settings",
            "Safety order",
            T::Number,
            "Quote amount of the first safety order.",
        )
        .required()
        .range(Some(0), None),
        S::new("maxSafetyOrders", "Order Settings", "Max safety orders", T::Number, "Safety orders placed per deal.")
            .num(5)
            .range(Some(0), Some(100)),
        S::new("priceDeviation", "Price Settings", "Price Deviation %", T::Number, "Gap between each order")
            .num(2)
            .range(Some(0), Some(100)),
        S::new(
            "safetyOrderStepScale",
            "Price Settings",
            "Safety order step scale",
            T::Number,
            "Multiplier of each next gap between safety orders.",
        )
        .num(1)
        .range(Some(0), Some(10)),
        S::new(
            "safetyOrderVolumeScale",
            "Order Settings",
            "Safety order volume scale",
            T::Number,
            "Multiplier of each next safety order's amount.",
        )
        .num(1)
        .range(Some(0), Some(10)),
        S::new(
            "takeProfit",
            "Price Settings",
            "Take profit %",
            T::Number,
            "Target profit of a deal, net of fees, in % of its average price.",
        )
        .num(1)
        .range(Some(0), Some(100))
        .editable(),
    ];
    if futures {
        v.push(leverage());
    }
    v.push(interval());
    v.into_iter().map(|s| s.0).collect()
}

pub(super) fn webhook() -> Vec<SettingMeta> {
    [
        symbol(),
        S::new("signalToken", "", "Token", T::String, "The token signals for this bot are sent with.")
            .value(SettingValue::Text(""))
            .editable(),
        leverage(),
        S::new(
            "signals",
            "Backtest",
            "Signals",
            T::Array,
            "Signals to replay in a backtest: [{timestamp, action, amount, price?}], action one of buy, sell, enter_long, exit_long, enter_short, exit_short; a limit order at price, or a market order when price is absent.",
        )
        .value(SettingValue::EmptyArray)
        .backtest_only(),
        interval(),
    ]
    .into_iter()
    .map(|s| s.0)
    .collect()
}
