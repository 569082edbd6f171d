//! Pledges become projects (docs/MODEL.md §7.3).
//!
//! A pledge that comes due is split into projects; each is delivered with a chance set by
//! the patron's implementation capacity and the host's absorptive capacity. Delivered
//! projects build the host's delivery experience, which raises its absorptive capacity;
//! the patron's credibility learns the share of its pledges it actually delivered. So
//! the conversion of pledges into projects is an outcome of the run, not an input.

use rand::Rng;
use rand_distr::{Binomial, Distribution};

use super::Simulation;

/// Experience (percent of GDP delivered, accumulated) added to both sides of the ratio
/// that moves absorptive capacity.
const EXPERIENCE_FLOOR: f64 = 1.0;

impl Simulation<'_> {
    /// Absorptive capacity in force this quarter: the host's lever, moved by how its
    /// delivery experience compares with the start's,
    /// `κ = κ_max − (κ_max − κ_lever) · ((K⁰ + 1) / (K + 1))^λ_κ`, kept in `[0.01, κ_max]`
    /// (a lever above `κ_max` is kept as it is). The effect is relative, so doubling the
    /// projects a small economy receives counts as much as doubling a large one's; the 1
    /// (a percent of GDP) keeps a host that starts with no projects from reacting to the
    /// first one without bound.
    pub(super) fn update_absorptive_capacity(&mut self) {
        let params = &self.scenario.params;
        for h in 0..self.scenario.n_hosts() {
            let lever = self.host_levers[h].absorptive_capacity;
            self.absorptive_capacity[h] = if lever >= params.absorptive_max {
                lever
            } else {
                let gap = params.absorptive_max - lever;
                let relative =
                    (self.initial_experience[h] + EXPERIENCE_FLOOR) / (self.experience[h] + EXPERIENCE_FLOOR);
                (params.absorptive_max - gap * relative.powf(params.absorptive_learning))
                    .clamp(0.01, params.absorptive_max)
            };
        }
    }

    /// Pledges that come due become projects, project by project; credibility follows the
    /// share delivered and experience the amount delivered.
    pub(super) fn disburse<R: Rng>(&mut self, rng: &mut R) {
        let scenario = self.scenario;
        let params = &scenario.params;
        let np = scenario.n_patrons();
        self.disbursed_usd_bn.iter_mut().for_each(|d| *d = 0.0);
        self.fdi_inflow_usd_bn.iter_mut().for_each(|d| *d = 0.0);
        for p in 0..np {
            let mut due = 0.0;
            let mut delivered = 0.0;
            let implementation = self.patron_levers[p].implementation_capacity;
            let loan_share = self.patron_levers[p].loan_share;
            while let Some(pledge) = self.pipelines[p].front().copied() {
                if pledge.due_step > self.step {
                    break;
                }
                self.pipelines[p].pop_front();
                let h = pledge.host;
                let chance = (implementation * self.absorptive_capacity[h]).clamp(0.0, 1.0);
                let n_projects = (pledge.amount_usd_bn / params.project_size_usd_bn).ceil().max(1.0);
                let done = Binomial::new(n_projects as u64, chance)
                    .expect("validated: chance in [0,1]")
                    .sample(rng) as f64;
                let amount = pledge.amount_usd_bn * done / n_projects;
                let i = h * np + p;
                self.pledged_due_cumulative_usd_bn[i] += pledge.amount_usd_bn;
                self.disbursed_usd_bn[i] += amount;
                self.disbursed_cumulative_usd_bn[i] += amount;
                // Equity and grants are direct investment, the rest lending: both join
                // their stocks in `grow_economy`.
                self.fdi_inflow_usd_bn[i] += (1.0 - loan_share) * amount;
                due += pledge.amount_usd_bn;
                delivered += amount;
            }
            // Credibility is the share delivered of an exponentially weighted record of
            // pledges due: a ratio of weighted sums, so quarters with more due count more.
            let learning = scenario.patrons[p].credibility_learning;
            let record = &mut self.delivery_record[p];
            record.due = (1.0 - learning) * record.due + learning * due;
            record.delivered = (1.0 - learning) * record.delivered + learning * delivered;
            if record.due > 0.0 {
                self.credibility[p] = (record.delivered / record.due).clamp(0.0, 1.0);
            }
        }
        for h in 0..scenario.n_hosts() {
            let delivered: f64 = self.disbursed_usd_bn[h * np..(h + 1) * np].iter().sum();
            self.experience[h] = (1.0 - params.experience_decay) * self.experience[h]
                + experience_gain(delivered, self.underlying_gdp_usd_bn[h]);
        }
    }
}

/// Experience a quarter's delivered projects add: percent of the host's annual GDP.
pub(super) fn experience_gain(delivered_usd_bn: f64, gdp_usd_bn: f64) -> f64 {
    100.0 * delivered_usd_bn / gdp_usd_bn
}
