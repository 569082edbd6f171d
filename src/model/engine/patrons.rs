//! How patrons adapt their allocation over hosts (docs/MODEL.md §7.12). Each rule maps
//! what a patron got from each host last quarter to a new allocation; a new rule is a
//! new arm of [`StrategyRule`] and of the match below.

use super::{ratio, Simulation};
use crate::model::StrategyRule;

impl Simulation<'_> {
    /// Each patron moves its allocation over hosts by the rule its scenario picks.
    pub(super) fn adapt_patrons(&mut self) {
        let scenario = self.scenario;
        let nh = scenario.n_hosts();
        let np = scenario.n_patrons();
        for (p, patron) in scenario.patrons.iter().enumerate() {
            let strategy = patron.strategy;
            if strategy.rule == StrategyRule::Fixed || strategy.adaptation_rate == 0.0 {
                continue;
            }
            let objectives = strategy.objectives;
            // What the patron got from each host this quarter, per unit of allocation.
            let returns: Vec<f64> = (0..nh)
                .map(|h| {
                    let i = h * np + p;
                    let security_share = ratio(self.security_stock[i], self.total_security(h));
                    let trade_share = ratio(self.trade_usd_bn[i], self.total_trade(h));
                    let supply = &self.minerals.host_supply_value[h * (np + 1)..(h + 1) * (np + 1)];
                    let minerals_share = ratio(supply[p], supply.iter().sum());
                    self.decisions[i].acceptance
                        * (objectives.influence * self.alignment[i]
                            + objectives.security * security_share
                            + objectives.trade * trade_share
                            + objectives.minerals * minerals_share)
                })
                .collect();
            let rate = strategy.adaptation_rate;
            let row = &mut self.allocation[p * nh..(p + 1) * nh];
            let target: Vec<f64> = match strategy.rule {
                StrategyRule::Fixed => continue,
                StrategyRule::BestResponse => returns.clone(),
                StrategyRule::Learning => {
                    let propensity = &mut self.propensity[p * nh..(p + 1) * nh];
                    for h in 0..nh {
                        propensity[h] = (1.0 - rate) * propensity[h] + returns[h] * row[h];
                    }
                    propensity.to_vec()
                }
                StrategyRule::RivalResponse => (0..nh)
                    .map(|h| {
                        let rival_gain: f64 = (0..np)
                            .filter(|&q| q != p)
                            .map(|q| {
                                let i = h * np + q;
                                (self.alignment[i] - self.previous_alignment[i]).max(0.0)
                            })
                            .sum();
                        row[h] * (1.0 + 100.0 * rival_gain)
                    })
                    .collect(),
            };
            let total: f64 = target.iter().sum();
            if total <= 0.0 || !total.is_finite() {
                continue;
            }
            if strategy.rule == StrategyRule::Learning {
                for h in 0..nh {
                    row[h] = target[h] / total;
                }
            } else {
                for h in 0..nh {
                    row[h] = (1.0 - rate) * row[h] + rate * target[h] / total;
                }
            }
        }
    }
}
