//! Offers and host decisions (docs/MODEL.md §7.2).
//!
//! Every term of a host's valuation of an offer is money-equivalent value in USD bn a
//! quarter, proportional to the offer's size: the value of credible investment and of
//! market access, the security value of aid, the sovereignty cost of conditions and
//! debt, the cost of the concentration the offer adds to the host's ties, the expected
//! displeasure of the other patrons, goodwill and noise. The host takes a share of the
//! offer given by the logistic of the net value per USD offered, so how much of an offer
//! is taken does not depend on its size, and what taking it does (pledges, aid, market
//! access, the offers channel of alignment) is in proportion to the dollars taken.

use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::{logistic, DecisionTerms, Pledge, Simulation};

/// What a host sees in one patron's offer this quarter, before noise.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Offer {
    /// Investment offered, USD bn a quarter.
    pub investment: f64,
    /// Security aid the host can take (the offer times its security openness).
    pub security_aid: f64,
    /// Extra trade a quarter that the market access offered brings.
    pub trade_gain: f64,
    /// Money-equivalent value of each term, USD bn a quarter, without noise.
    pub economic: f64,
    pub security: f64,
    pub concentration: f64,
    pub sovereignty: f64,
    pub displeasure: f64,
    pub goodwill: f64,
    /// Net value per USD offered, without noise.
    pub value_per_usd: f64,
}

impl Offer {
    /// What the host can take, USD bn a quarter.
    pub fn size(&self) -> f64 {
        self.investment + self.security_aid + self.trade_gain
    }
}

impl Simulation<'_> {
    /// Patron `p`'s offer to host `h` this quarter and the host's valuation of it.
    pub(super) fn value_offer(&self, h: usize, p: usize) -> Offer {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        let i = h * np + p;
        let host = self.host_levers[h];
        let patron = self.patron_levers[p];
        let share = self.allocation[p * scenario.n_hosts() + h];
        let investment = self.budget(p, patron.investment_budget_usd_bn) / 4.0 * share;
        let security_aid = self.budget(p, patron.security_budget_usd_bn) / 4.0 * share * host.security_openness;
        let trade_gain = params.trade_access_gain * patron.trade_offer * self.trade_usd_bn[i] / 4.0;
        let size = investment + security_aid + trade_gain;

        // Per USD of each component.
        let capacity = self.absorptive_capacity[h];
        let economic_per_investment = params.economic_weight * capacity * self.credibility[p];
        let economic_per_trade = params.economic_weight * capacity;
        let security_per_aid = params.security_weight * host.threat_level;
        let debt_stress = (self.debt_pct_gdp(h) / host.debt_tolerance_pct_gdp).powi(2);
        let sovereignty_per_investment =
            -host.sovereignty_sensitivity * (patron.conditionality + patron.loan_share * debt_stress);

        // Per USD of the whole offer. Concentration: taking the offer adds `offers` weight
        // times its annual value to the host's ties with p; the Herfindahl index of the
        // ties' shares rises by 2 (s_p - H) times that over the ties' total, and the host
        // pays `concentration_aversion` of its GDP per unit of the index.
        // (The ties' values are recomputed rather than collected: cheaper than a vector
        // allocated for every offer every quarter, and the same numbers.)
        let values = (0..np).map(|q| self.ties_value(h, q));
        let total: f64 = values.clone().sum();
        let concentration_per_usd = if total > 0.0 {
            let s = self.ties_value(h, p) / total;
            let hhi: f64 = values.map(|v| (v / total).powi(2)).sum();
            -host.concentration_aversion * 2.0 * (s - hhi) * params.attraction_weights.offers * self.gdp_usd_bn[h]
                / total
        } else {
            0.0
        };
        let rival_pressure: f64 = (0..np)
            .filter(|&q| q != p)
            .map(|q| self.patron_levers[q].assertiveness * self.leverage[h * np + q])
            .sum();
        let displeasure_per_usd = -params.displeasure_weight * rival_pressure;
        let goodwill_per_usd = patron.goodwill;

        let economic = economic_per_investment * investment + economic_per_trade * trade_gain;
        let security = security_per_aid * security_aid;
        let sovereignty = sovereignty_per_investment * investment;
        let common = concentration_per_usd + displeasure_per_usd + goodwill_per_usd;
        // With nothing on the table, the value per USD is that of a dollar of investment
        // (what the host's approval of the patron's firms is judged by).
        let value_per_usd = if size > 0.0 {
            (economic + security + sovereignty) / size + common
        } else {
            economic_per_investment + sovereignty_per_investment + common
        };
        Offer {
            investment,
            security_aid,
            trade_gain,
            economic,
            security,
            concentration: concentration_per_usd * size,
            sovereignty,
            displeasure: displeasure_per_usd * size,
            goodwill: goodwill_per_usd * size,
            value_per_usd,
        }
    }

    /// The share of an offer taken at a value per USD (noise included).
    pub(super) fn acceptance_at(&self, value_per_usd: f64) -> f64 {
        let params = &self.scenario.params;
        logistic((value_per_usd - params.acceptance_threshold) / params.acceptance_scale)
    }

    /// The expected share taken over the decision noise, by Simpson's rule on ±6
    /// standard deviations (used to set up the steady state at the start).
    pub(super) fn expected_acceptance(&self, value_per_usd: f64) -> f64 {
        let sd = self.scenario.params.decision_noise_sd;
        if sd <= 0.0 {
            return self.acceptance_at(value_per_usd);
        }
        const INTERVALS: usize = 96;
        let (lo, hi) = (-6.0, 6.0);
        let step = (hi - lo) / INTERVALS as f64;
        let mut sum = 0.0;
        let mut weights = 0.0;
        for k in 0..=INTERVALS {
            let z = lo + step * k as f64;
            let simpson = if k == 0 || k == INTERVALS {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            let density = (-0.5 * z * z).exp();
            sum += simpson * density * self.acceptance_at(value_per_usd + sd * z);
            weights += simpson * density;
        }
        sum / weights
    }

    /// Offers, host evaluations and acceptances: accepted pledges enter the pipelines,
    /// accepted security aid and market access are recorded for the stocks.
    pub(super) fn decide<R: Rng>(&mut self, rng: &mut R) {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        let noise = Normal::new(0.0, params.decision_noise_sd).expect("validated: sd is finite and >= 0");
        let step = self.step;

        // Every host decides on the state at the start of the quarter.
        let offers: Vec<Offer> = (0..scenario.n_hosts())
            .flat_map(|h| (0..np).map(move |p| (h, p)))
            .map(|(h, p)| self.value_offer(h, p))
            .collect();
        for (i, offer) in offers.iter().enumerate() {
            let (h, p) = (i / np, i % np);
            let draw = noise.sample(rng);
            let acceptance = self.acceptance_at(offer.value_per_usd + draw);
            let size = offer.size();
            let to_pct = 100.0 / (self.gdp_usd_bn[h] / 4.0);
            let noise_term = draw * size;
            let utility = offer.economic
                + offer.security
                + offer.concentration
                + offer.sovereignty
                + offer.displeasure
                + offer.goodwill
                + noise_term;
            self.acceptance[i] = acceptance;
            self.decisions[i] = DecisionTerms {
                economic: offer.economic * to_pct,
                security: offer.security * to_pct,
                concentration: offer.concentration * to_pct,
                sovereignty: offer.sovereignty * to_pct,
                displeasure: offer.displeasure * to_pct,
                goodwill: offer.goodwill * to_pct,
                noise: noise_term * to_pct,
                utility: utility * to_pct,
                acceptance,
            };

            let pledge = acceptance * offer.investment;
            self.pledged_usd_bn[i] = pledge;
            self.pledged_cumulative_usd_bn[i] += pledge;
            if pledge > 0.0 {
                self.pipelines[p].push_back(Pledge {
                    host: h,
                    due_step: step + scenario.patrons[p].pledge_lag_quarters,
                    amount_usd_bn: pledge,
                });
            }
            self.aid_taken_usd_bn[i] = acceptance * offer.security_aid;
            self.trade_access[i] = self.trade_access[i] * (1.0 - params.trade_access_decay)
                + acceptance * self.patron_levers[p].trade_offer;
            // The offers channel remembers accepted offers for a while (a moving average),
            // so one quarter's choice does not swing the next quarter's valuation.
            let decay = params.offers_decay;
            self.accepted_value_usd_bn[i] = (1.0 - decay) * self.accepted_value_usd_bn[i] + decay * acceptance * size;
        }
    }
}
