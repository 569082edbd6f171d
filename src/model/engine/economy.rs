//! The economy: growth of the patrons, the world and the hosts' underlying economies;
//! the stocks of FDI, debt and security ties; remittances; and GDP, which external income
//! moves (docs/MODEL.md §7.4, §7.9).
//!
//! Every stock follows one accounting: it wears out (depreciates, is repaid, decays) at
//! its rate and is renewed by flows. The flows are what the patrons' offers deliver plus
//! a background flow (investors, lenders and arms purchases outside the patrons'
//! budgets) set at the start so that, with no change in policy, each stock keeps its
//! ratio to the economies it belongs to (`start.rs`).

use super::Simulation;
use crate::time::Quarter;

impl Simulation<'_> {
    /// Growth of the quarter: patrons' economies, the world, the hosts' underlying GDP
    /// (trend or path, plus the growth effect of disbursed projects), and with them the
    /// trade bases (gravity, normalised by the world economy) and the stocks.
    pub(super) fn grow_economy(&mut self, quarter: Quarter) {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        // A patron's quarterly growth: its economy path where it applies (plus any change
        // events make to the lever), else the lever.
        for ((growth, patron), levers) in self
            .patron_growth
            .iter_mut()
            .zip(&scenario.patrons)
            .zip(&self.patron_levers)
        {
            let lever = levers.economy_growth_pct / 400.0;
            *growth = match patron.path_growth(quarter) {
                Some(path) => path + lever - patron.levers.economy_growth_pct / 400.0,
                None => lever,
            };
        }
        for (economy, growth) in self.patron_economy.iter_mut().zip(&self.patron_growth) {
            *economy *= (1.0 + growth).max(0.01);
        }
        let world = 1.0 + params.world_growth_per_quarter;
        self.world_economy *= world;
        let other_partners = (1.0 + params.other_partners_growth_per_quarter) / world;

        for (h, host) in scenario.hosts.iter().enumerate() {
            let disbursed: f64 = self.disbursed_usd_bn[h * np..(h + 1) * np].iter().sum();
            // A GDP path (observed or projected) replaces trend growth in the years it
            // covers; events that move the trend still add their change.
            let trend = self.host_levers[h].trend_growth_pct / 400.0;
            let underlying = match host.path_growth(quarter) {
                Some(path) => path + trend - host.levers.trend_growth_pct / 400.0,
                None => trend,
            };
            // Projects beyond (or short of) what the start delivers, relative to GDP, move
            // growth: the trend already holds the effect of the start's.
            let extra_projects = disbursed / self.underlying_gdp_usd_bn[h] - self.initial_delivery_ratio[h];
            let growth = underlying + params.investment_growth_multiplier * extra_projects;
            let factor = (1.0 + growth).max(0.01);
            self.underlying_gdp_usd_bn[h] *= factor;
            let size = self.underlying_gdp_usd_bn[h] / host.gdp_usd_bn;
            let trade_factor = factor.powf(params.trade_gdp_elasticity);
            self.other_gravity[h] *= trade_factor * other_partners;
            self.other_debt_usd_bn[h] *= factor;
            // Arms purchases keep their share of the growing economy.
            self.other_security_stock[h] =
                self.other_security_stock[h] * (1.0 - params.security_decay) + self.other_procurement[h] * size;
            for (p, growth) in self.patron_growth.iter().enumerate() {
                let i = h * np + p;
                self.gravity[i] *= trade_factor * (1.0 + growth).max(0.01) / world;
                // Stocks wear out, then the quarter's flows join them. A negative background
                // flow (where the patrons' budgets alone more than renew the start's stock)
                // cannot take a stock below zero.
                self.fdi_inflow_usd_bn[i] += self.background_fdi_usd_bn[i] * self.gravity[i];
                self.fdi_stock_usd_bn[i] = (self.fdi_stock_usd_bn[i] * (1.0 - params.fdi_depreciation_per_quarter)
                    + self.fdi_inflow_usd_bn[i])
                    .max(0.0);
                let lending = self.patron_levers[p].loan_share * self.disbursed_usd_bn[i];
                self.debt_to_patron_usd_bn[i] = (self.debt_to_patron_usd_bn[i]
                    * (1.0 - params.debt_amortization_per_quarter)
                    + lending
                    + self.background_lending_usd_bn[i] * size)
                    .max(0.0);
                self.security_stock[i] = self.security_stock[i] * (1.0 - params.security_decay)
                    + self.procurement[i] * size
                    + self.aid_taken_usd_bn[i];
            }
        }
    }

    /// Remittances follow the economies they come from: the share from each patron moves
    /// with that patron's economy, the rest with the host's own underlying economy.
    pub(super) fn update_remittances(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let elasticity = scenario.params.remittance_elasticity;
        let trend = (1.0 + scenario.params.remittance_trend_per_quarter).powi(self.step as i32);
        for (h, host) in scenario.hosts.iter().enumerate() {
            let base_pct = host.levers.remittances_pct_gdp;
            let base = base_pct / 100.0 * host.gdp_usd_bn;
            // Events scale remittances through the lever (a crackdown on migrants, say).
            let shock = if base_pct > 0.0 {
                self.host_levers[h].remittances_pct_gdp / base_pct
            } else {
                0.0
            };
            let mut from_patrons = 0.0;
            for (p, tie) in host.ties.iter().enumerate() {
                let amount = base * shock * trend * tie.remittance_share * self.patron_economy[p].powf(elasticity);
                self.remittances_from_usd_bn[h * np + p] = amount;
                from_patrons += amount;
            }
            let from_patrons_share: f64 = host.ties.iter().map(|t| t.remittance_share).sum();
            let from_elsewhere =
                base * shock * (1.0 - from_patrons_share).max(0.0) * self.underlying_gdp_usd_bn[h] / host.gdp_usd_bn;
            self.remittances_usd_bn[h] = from_patrons + from_elsewhere;
        }
    }

    /// GDP is the underlying economy plus `external_income_multiplier` times the external
    /// income (remittances and exports) above or below what the start's ratio to GDP
    /// gives: money that enters or leaves a host reaches its economy. A host driven by a
    /// GDP path has its GDP from the path, which already holds every such shock.
    pub(super) fn update_gdp(&mut self) {
        let scenario = self.scenario;
        let multiplier = scenario.params.external_income_multiplier;
        for (h, host) in scenario.hosts.iter().enumerate() {
            let underlying = self.underlying_gdp_usd_bn[h];
            self.gdp_usd_bn[h] = if host.gdp_path_growth.is_empty() {
                let income = self.remittances_usd_bn[h] + self.total_exports(h);
                let gap = income - self.initial_external_income_ratio[h] * underlying;
                (underlying + multiplier * gap).max(0.2 * underlying)
            } else {
                underlying
            };
        }
    }
}
