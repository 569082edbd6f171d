//! What draws a host toward a patron, and what a patron holds over it: the value of the
//! host's ties with each patron, leverage, and alignment (docs/MODEL.md §7.7, §7.8).

use super::{ratio, Simulation};

impl Simulation<'_> {
    /// The political value of host `h`'s ties with patron `p`, in weighted USD bn a year:
    /// trade, FDI stock, security stock (for a host open to security ties), remittances
    /// and the offers it accepted this quarter (annualised). Every channel is money, so a
    /// small tie cannot outweigh a large one.
    pub(super) fn ties_value(&self, h: usize, p: usize) -> f64 {
        let w = self.scenario.params.attraction_weights;
        let i = h * self.scenario.n_patrons() + p;
        let openness = self.host_levers[h].security_openness;
        w.trade * self.trade_usd_bn[i]
            + w.fdi * self.fdi_stock_usd_bn[i]
            + w.security * openness * self.security_stock[i]
            + w.remittances * self.remittances_from_usd_bn[i]
            + w.offers * 4.0 * self.accepted_value_usd_bn[i]
    }

    /// The alignment host `h` chooses: between its ties and balance. With `s` each
    /// patron's share of the host's ties value, `w` the ties' value per USD of GDP and `c`
    /// its concentration aversion (the share of GDP it would pay per unit of Herfindahl
    /// index), the alignment that minimises `w Σ (A − s)² + c Σ A²` on the simplex is
    /// `(w s + c / n) / (w + c)`: a host whose ties are small beside its economy, or that
    /// prizes balance, stays closer to equal alignment with every patron.
    pub(super) fn alignment_target(&self, h: usize) -> Vec<f64> {
        let np = self.scenario.n_patrons();
        let total = self.ties_total(h);
        (0..np).map(|p| self.alignment_target_of(h, p, total)).collect()
    }

    /// The value of host `h`'s ties with all patrons ([`Self::ties_value`] summed).
    fn ties_total(&self, h: usize) -> f64 {
        (0..self.scenario.n_patrons()).map(|p| self.ties_value(h, p)).sum()
    }

    /// Patron `p`'s entry of [`Self::alignment_target`], given [`Self::ties_total`].
    fn alignment_target_of(&self, h: usize, p: usize, total: f64) -> f64 {
        let balance = 1.0 / self.scenario.n_patrons() as f64;
        if total <= 0.0 {
            return balance;
        }
        let ties_per_gdp = total / self.gdp_usd_bn[h];
        let aversion = self.host_levers[h].concentration_aversion;
        (ties_per_gdp * self.ties_value(h, p) / total + aversion * balance) / (ties_per_gdp + aversion)
    }

    /// Leverage of each patron over each host, in 0..=1: a weighted mean of its share of
    /// the host's trade (with the host's trade that crosses its territory), of its
    /// security stock, of its remittances (weighted by how much remittances matter), of
    /// its debt (weighted by how indebted the host is) and of its secondary-sanction risk.
    pub(super) fn update_leverage(&mut self) {
        let scenario = self.scenario;
        let w = scenario.params.leverage_weights;
        let np = scenario.n_patrons();
        let weight_sum = (w.trade + w.security + w.remittances + w.debt + w.sanctions).max(1e-12);
        for h in 0..scenario.n_hosts() {
            let total_trade = self.total_trade(h);
            let total_security = self.total_security(h);
            let total_debt = self.total_debt(h);
            let remittances = self.remittances_usd_bn[h];
            let remittance_weight = (100.0 * remittances / self.gdp_usd_bn[h] / 20.0).min(1.0);
            let debt_weight = (self.debt_pct_gdp(h) / 60.0).min(1.0);
            for p in 0..np {
                let i = h * np + p;
                let transit =
                    self.routes.transit_share.get(p).copied().unwrap_or(0.0) * self.other_trade_with_flows_usd_bn[h];
                let trade_share = ratio(self.trade_usd_bn[i] + transit, total_trade).min(1.0);
                let security_share = ratio(self.security_stock[i], total_security);
                let debt_share = ratio(self.debt_to_patron_usd_bn[i], total_debt);
                let remittance_share = ratio(self.remittances_from_usd_bn[i], remittances);
                self.leverage[i] = (w.trade * trade_share
                    + w.security * security_share
                    + w.remittances * remittance_share * remittance_weight
                    + w.debt * debt_share * debt_weight
                    + w.sanctions * self.sanction_risk[i])
                    / weight_sum;
            }
        }
    }

    /// Alignment moves a share `alignment_inertia` of the way to its target each quarter.
    pub(super) fn update_alignment(&mut self) {
        let scenario = self.scenario;
        let np = scenario.n_patrons();
        let inertia = scenario.params.alignment_inertia;
        self.previous_alignment.clone_from(&self.alignment);
        for h in 0..scenario.n_hosts() {
            // The target reads the ties, not the alignment, so the row is updated in place
            // (no vector of targets allocated per host and quarter).
            let total = self.ties_total(h);
            for p in 0..np {
                let target = self.alignment_target_of(h, p, total);
                let a = &mut self.alignment[h * np + p];
                *a = (1.0 - inertia) * *a + inertia * target;
            }
            let row = &mut self.alignment[h * np..(h + 1) * np];
            // Renormalise away rounding drift so shares sum to one exactly enough.
            let sum: f64 = row.iter().sum();
            row.iter_mut().for_each(|a| *a /= sum);
        }
    }
}
