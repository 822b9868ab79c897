#include "flux/kinetics.h"

#include <algorithm>
#include <cmath>

namespace nflux::flux {
namespace {

constexpr double kShuntShare = 0.5;  // share of precursor loss through its degrading enzymes

// Gauss-Legendre nodes and weights on [0, 1], 6 points (exact for polynomials of degree 11).
constexpr int kGlPoints = 6;
constexpr double kGlX[kGlPoints] = {0.033765242898423975, 0.16939530676686776, 0.38069040695840156,
                                    0.6193095930415985,   0.8306046932331322,  0.966234757101576};
constexpr double kGlW[kGlPoints] = {0.08566224618958517, 0.1803807865240693, 0.23395696728634552,
                                    0.23395696728634552, 0.1803807865240693, 0.08566224618958517};

// A value and its gradient over the channels (forward-mode automatic differentiation): the
// equations below are written once, as templates, and evaluated either on doubles (the indices)
// or on Duals (their exact derivatives, with no difference step to choose).
struct Dual {
  double v = 0;
  Channels d{};  // d v / d l_c
};

// The chain rule for a result with value v: d result = da · d a (+ db · d b).
Dual Chain(double v, double da, const Dual& a) {
  Dual out{v, {}};
  for (size_t c = 0; c < out.d.size(); ++c) out.d[c] = da * a.d[c];
  return out;
}
Dual Chain(double v, double da, const Dual& a, double db, const Dual& b) {
  Dual out{v, {}};
  for (size_t c = 0; c < out.d.size(); ++c) out.d[c] = da * a.d[c] + db * b.d[c];
  return out;
}
Dual operator+(const Dual& a, const Dual& b) { return Chain(a.v + b.v, 1, a, 1, b); }
Dual operator-(const Dual& a, const Dual& b) { return Chain(a.v - b.v, 1, a, -1, b); }
Dual operator*(const Dual& a, const Dual& b) { return Chain(a.v * b.v, b.v, a, a.v, b); }
Dual operator/(const Dual& a, const Dual& b) { return Chain(a.v / b.v, 1 / b.v, a, -a.v / (b.v * b.v), b); }
Dual operator+(double a, const Dual& b) { return Chain(a + b.v, 1, b); }
Dual operator+(const Dual& a, double b) { return Chain(a.v + b, 1, a); }
Dual operator-(double a, const Dual& b) { return Chain(a - b.v, -1, b); }
Dual operator-(const Dual& a, double b) { return Chain(a.v - b, 1, a); }
Dual operator*(double a, const Dual& b) { return Chain(a * b.v, a, b); }
Dual operator*(const Dual& a, double b) { return Chain(a.v * b, b, a); }
Dual operator/(const Dual& a, double b) { return Chain(a.v / b, 1 / b, a); }
Dual exp(const Dual& a) {
  double v = std::exp(a.v);
  return Chain(v, v, a);
}
Dual log(const Dual& a) { return Chain(std::log(a.v), 1 / a.v, a); }
Dual pow(const Dual& a, double p) {
  double v = std::pow(a.v, p);
  return Chain(v, p * v / a.v, a);
}
double Value(double x) { return x; }
double Value(const Dual& x) { return x.v; }

// The model's equations, for T = double or Dual. `using std::exp` etc. lets one spelling call
// either overload; on doubles they are the same operations in the same order as always, so the
// indices do not depend on whether a gradient is also wanted.
using std::exp;
using std::log;
using std::pow;

template <typename T>
T SubstrateTerm(const T& s, double km, double ki) {
  T denominator = km + s;
  if (ki > 0) denominator = denominator + s * s / ki;
  return s / denominator;
}

// The synthesis drive J0 (relative to reference) before autoreceptor feedback: precursor,
// rate-limiting enzyme with its co-substrate, following steps, pathway-level factors.
template <typename T>
T DriveJ0(const PathwaySpec& spec, const std::array<T, kMaxChannels>& l) {
  // Precursor availability (relative to reference) and the substrate term of the rate enzyme.
  T supply = exp(l[kSupply] + l[kBbb]) / (1 - kShuntShare + kShuntShare * exp(l[kShunt]));
  T s = spec.s_ref * supply;
  T j0 = exp(l[kDrive] + l[kRate]) * SubstrateTerm(s, spec.km, spec.ki) /
         SubstrateTerm(spec.s_ref, spec.km, spec.ki);
  if (!spec.cosubstrate.empty()) {
    T b = spec.b_ref * exp(l[kCosubstrate]);
    j0 = j0 * ((b / (spec.kb + b)) / (spec.b_ref / (spec.kb + spec.b_ref)));
  }
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    double leak = spec.steps[i].leak;
    T m = exp(l[kStep0 + i]);
    j0 = j0 * (m / (m * (1 - leak) + leak));
  }
  return j0;
}

// Storage and clearance: the vesicular share phi of cytosolic transmitter (VMAT vs cytosolic
// breakdown), the transporter's Vmax, the extracellular clearance constant and its enzymatic part.
template <typename T>
struct Clearance {
  T phi, vmax, k_e, k_enz;
};

template <typename T>
Clearance<T> ClearanceAt(const Kinetics& k, const std::array<T, kMaxChannels>& l) {
  const PathwaySpec& spec = *k.spec;
  T a_v = spec.phi_ref * exp(l[kVmat]);
  T a_m = (1 - spec.phi_ref) * exp(l[kCytBreakdown]);
  T k_enz = k.k_enz * exp(l[kExtBreakdown]);
  return {a_v / (a_v + a_m), k.vt * exp(l[kTransporter]), k.k_diff + k_enz, k_enz};
}

// J_needed(E) = ((1 - phi) Vt E / (Kt + E) + k_e E) / phi: the synthesis that holds level E.
template <typename T>
T Needed(const PathwaySpec& spec, const Clearance<T>& c, const T& e) {
  return ((1 - c.phi) * c.vmax * e / (spec.kt + e) + c.k_e * e) / c.phi;
}

// F(u) = ln J_needed(e^u) - ln J0 + alpha (u - u_ref), given `needed` = J_needed(e^u); the steady
// state is its root, unique because F increases strictly in u.
template <typename T>
T Imbalance(const Kinetics& k, const T& needed, const T& log_j0, const T& u) {
  return log(needed) - log_j0 + k.spec->alpha * (u - k.u_ref);
}

// dF/du at e = e^u: the elasticity of J_needed plus alpha.
double ImbalanceSlope(const PathwaySpec& spec, const Clearance<double>& c, double e, double needed) {
  double d = ((1 - c.phi) * c.vmax * spec.kt / ((spec.kt + e) * (spec.kt + e)) + c.k_e) / c.phi;
  return e * d / needed + spec.alpha;
}

// The root of F by Newton's method from `u`, safeguarded by the bracket u_ref ± 40 (bisection when
// a step leaves it), to a relative step of 1e-14.
double SolveLogLevel(const Kinetics& k, const Clearance<double>& c, double j0, double u) {
  double log_j0 = std::log(j0);
  double lo = k.u_ref - 40, hi = k.u_ref + 40;
  for (int iter = 0; iter < 100; ++iter) {
    // One exp and one log per step: e and J_needed(e) serve both F and its slope.
    double e = std::exp(u);
    double needed = Needed(*k.spec, c, e);
    double fu = Imbalance(k, needed, log_j0, u);
    if (fu > 0) hi = u; else lo = u;
    double next = u - fu / ImbalanceSlope(*k.spec, c, e, needed);
    // Converged before the bracket test: a step landing exactly on the root (fu == 0) would
    // otherwise fall outside the half-open bracket and restart bisection.
    if (std::fabs(next - u) <= 1e-14 * std::max(1.0, std::fabs(u))) return next;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    u = next;
  }
  return u;
}

// The raw outputs at log level u: synthesis J, release phi (J + R), reuptake R, breakdown
// (1 - phi)(J + R) + k_enz E, level E, turnover = breakdown / release.
template <typename T>
std::array<T, kIndexCount> Outputs(const PathwaySpec& spec, const Clearance<T>& c, const T& j0, const T& u) {
  T e = exp(u);
  T j = j0 * pow(e / spec.e_ref, -spec.alpha);
  T reuptake = c.vmax * e / (spec.kt + e);
  T release = c.phi * (j + reuptake);
  T breakdown = (1 - c.phi) * (j + reuptake) + c.k_enz * e;
  T turnover = Value(release) > 0 ? breakdown / release : T{};
  return {j, release, reuptake, breakdown, e, turnover};
}

// One function per pathway, every constant named (docs/flux-model.md, section 3, gives each
// pathway's sources; "assumed" marks a value chosen there, not taken from a paper).
PathwaySpec SerotoninSpec() {
  return {
      .name = "serotonin",
      .transmitter = "serotonin",
      .pathway_node = "serotonin_pathway",
      .precursor = "tryptophan",
      .upstream = "",
      .rate_enzymes = {"tph2"},
      .km = 40,     // best_2010_serotonin_model: TPH Km(Trp)
      .ki = 1000,   // best_2010_serotonin_model: TPH substrate inhibition
      .s_ref = 25,  // best_2010_serotonin_model: brain tryptophan
      .cosubstrate = "bh4",
      .kb = 20,     // best_2010_serotonin_model: TPH Km(BH4)
      .b_ref = 20,  // assumed: BH4 reference
      .steps = {{.enzymes = {"aadc"}, .leak = 0.2}},  // best_2010_serotonin_model: AADC 160; leak assumed
      .extracellular_enzymes = {},
      .phi_ref = 0.8,  // assumed: vesicular share
      .rho = 0.9,      // assumed: reuptake share
      .e_ref = 0.06,   // best_2020_autoreceptor_model: extracellular 5-HT ~ 60 nM
      .kt = 0.1,       // best_2010_serotonin_model: SERT Km 0.06-0.17
      .enzymatic = 0,  // assumed
      .alpha = 0.3,    // assumed: autoreceptor exponent of the monoamines
  };
}

// The pineal: AANAT is light/NE-driven, little precursor-limited (elasticity 1/3).
PathwaySpec MelatoninSpec() {
  return {
      .name = "melatonin",
      .transmitter = "melatonin",
      .pathway_node = "melatonin_pathway",
      .precursor = "",
      .upstream = "serotonin",
      .rate_enzymes = {"aanat"},
      .km = 1,     // klein_2007_aanat: assumed
      .ki = 0,     // none
      .s_ref = 2,  // klein_2007_aanat: assumed (elasticity 1/3)
      .cosubstrate = "",
      .kb = 0,
      .b_ref = 0,
      .steps = {{.enzymes = {"asmt"}, .leak = 0.2}},  // wikipathways_wp3298_melatonin; leak assumed
      .extracellular_enzymes = {"cyp1a2"},           // wikipathways_wp3298_melatonin
      .phi_ref = 1.0,    // assumed: no vesicular storage
      .rho = 0.0,        // assumed: no reuptake
      .e_ref = 0.05,     // assumed
      .kt = 0.1,         // assumed (no transporter)
      .enzymatic = 1.0,  // assumed: cleared by CYP1A2
      .alpha = 0.0,      // assumed: no autoreceptor feedback
  };
}

PathwaySpec DopamineSpec() {
  return {
      .name = "dopamine",
      .transmitter = "dopamine",
      .pathway_node = "dopamine_pathway",
      .precursor = "tyrosine",
      .upstream = "",
      .rate_enzymes = {"th"},
      .km = 46,     // best_2009_dopamine_model: TH Km(Tyr)
      .ki = 160,    // best_2009_dopamine_model: TH substrate inhibition
      .s_ref = 75,  // fernstrom_2007_tyrosine: brain tyrosine 50-100 µM
      .cosubstrate = "bh4",
      .kb = 60,     // best_2009_dopamine_model: TH Km(BH4)
      .b_ref = 20,  // assumed: BH4 reference
      .steps = {{.enzymes = {"aadc"}, .leak = 0.2}},  // best_2009_dopamine_model; leak assumed
      .extracellular_enzymes = {"comt"},             // eisenhofer_2004_catecholamine_metabolism
      .phi_ref = 0.8,    // assumed: vesicular share
      .rho = 0.9,        // assumed: reuptake share
      .e_ref = 0.05,     // assumed: extracellular level
      .kt = 0.2,         // best_2009_dopamine_model: DAT Km
      .enzymatic = 0.5,  // assumed: COMT share of extracellular clearance
      .alpha = 0.3,      // assumed: autoreceptor exponent of the monoamines
  };
}

PathwaySpec NoradrenalineSpec() {
  return {
      .name = "noradrenaline",
      .transmitter = "noradrenaline",
      .pathway_node = "noradrenaline_pathway",
      .precursor = "tyrosine",
      .upstream = "",
      .rate_enzymes = {"th"},
      .km = 46,     // best_2009_dopamine_model: TH Km(Tyr)
      .ki = 160,    // best_2009_dopamine_model: TH substrate inhibition
      .s_ref = 75,  // fernstrom_2007_tyrosine: brain tyrosine 50-100 µM
      .cosubstrate = "bh4",
      .kb = 60,     // best_2009_dopamine_model: TH Km(BH4)
      .b_ref = 20,  // assumed: BH4 reference
      // eisenhofer_2004_catecholamine_metabolism; leaks assumed
      .steps = {{.enzymes = {"aadc"}, .leak = 0.2}, {.enzymes = {"dbh"}, .leak = 0.1}},
      .extracellular_enzymes = {"comt"},  // eisenhofer_2004_catecholamine_metabolism
      .phi_ref = 0.8,    // assumed: vesicular share
      .rho = 0.9,        // assumed: reuptake share
      .e_ref = 0.05,     // assumed: extracellular level
      .kt = 0.3,         // NET Km: best_2009_dopamine_model, eisenhofer_2004_catecholamine_metabolism
      .enzymatic = 0.5,  // assumed: COMT share of extracellular clearance
      .alpha = 0.3,      // assumed: autoreceptor exponent of the monoamines
  };
}

PathwaySpec AdrenalineSpec() {
  return {
      .name = "adrenaline",
      .transmitter = "adrenaline",
      .pathway_node = "adrenaline_pathway",
      .precursor = "tyrosine",
      .upstream = "",
      .rate_enzymes = {"th"},
      .km = 46,     // best_2009_dopamine_model: TH Km(Tyr)
      .ki = 160,    // best_2009_dopamine_model: TH substrate inhibition
      .s_ref = 75,  // fernstrom_2007_tyrosine: brain tyrosine 50-100 µM
      .cosubstrate = "bh4",
      .kb = 60,     // best_2009_dopamine_model: TH Km(BH4)
      .b_ref = 20,  // assumed: BH4 reference
      // wurtman_axelrod_1965_pnmt, eisenhofer_2004_catecholamine_metabolism; leaks assumed
      .steps = {{.enzymes = {"aadc"}, .leak = 0.2},
                {.enzymes = {"dbh"}, .leak = 0.1},
                {.enzymes = {"pnmt"}, .leak = 0.5}},
      .extracellular_enzymes = {"comt"},  // eisenhofer_2004_catecholamine_metabolism
      .phi_ref = 0.8,    // assumed: vesicular share
      .rho = 0.0,        // assumed: no reuptake
      .e_ref = 0.05,     // assumed
      .kt = 0.1,         // assumed (no transporter)
      .enzymatic = 0.5,  // assumed: COMT share of extracellular clearance
      .alpha = 0.0,      // assumed: no autoreceptor feedback
  };
}

// A lumped GABA module (reference g.3).
PathwaySpec GabaSpec() {
  return {
      .name = "gaba",
      .transmitter = "gaba",
      .pathway_node = "gaba_pathway",
      .precursor = "glutamate",
      .upstream = "",
      .rate_enzymes = {"gad65", "gad67"},
      .km = 1000,     // calvetti_somersalo_2013_gaba_glutamate_model: GAD Km(Glu) ~ 1 mM
      .ki = 0,        // none
      .s_ref = 10000,  // calvetti_somersalo_2013_gaba_glutamate_model: Glu ~ 10 mM
      .cosubstrate = "",
      .kb = 0,
      .b_ref = 0,
      .steps = {},
      .extracellular_enzymes = {},
      .phi_ref = 0.8,  // assumed: vesicular share
      .rho = 0.9,      // assumed: reuptake share
      .e_ref = 0.5,    // basic_neurochemistry_gaba
      .kt = 7,         // calvetti_somersalo_2013_gaba_glutamate_model: GAT1 Km 5-10 µM
      .enzymatic = 0,  // assumed
      .alpha = 0.2,    // assumed: autoreceptor exponent of GABA, glutamate and ACh
  };
}

// Glutaminase at its Km (elasticity 0.5, assumption).
PathwaySpec GlutamateSpec() {
  return {
      .name = "glutamate",
      .transmitter = "glutamate",
      .pathway_node = "glutamate_pathway",
      .precursor = "glutamine",
      .upstream = "",
      .rate_enzymes = {"glutaminase"},
      .km = 2000,     // assumed: glutaminase Km
      .ki = 0,        // none
      .s_ref = 2000,  // assumed: at Km
      .cosubstrate = "",
      .kb = 0,
      .b_ref = 0,
      .steps = {},
      .extracellular_enzymes = {},
      .phi_ref = 0.8,  // assumed: vesicular share
      .rho = 0.95,     // assumed: reuptake share
      .e_ref = 0.05,   // assumed
      .kt = 15,        // calvetti_somersalo_2013_gaba_glutamate_model: EAAT2 Km 10-20 µM
      .enzymatic = 0,  // assumed
      .alpha = 0.2,    // assumed: autoreceptor exponent of GABA, glutamate and ACh
  };
}

// CHT1 choline uptake is rate-limiting; ChAT is not limiting; AChE clears the cleft.
PathwaySpec AcetylcholineSpec() {
  return {
      .name = "acetylcholine",
      .transmitter = "acetylcholine",
      .pathway_node = "acetylcholine_pathway",
      .precursor = "choline",
      .upstream = "",
      .rate_enzymes = {"cht1"},
      .km = 2,     // cooper_bloom_roth: CHT1 Km 1-5 µM
      .ki = 0,     // none
      .s_ref = 5,  // cooper_bloom_roth
      .cosubstrate = "",
      .kb = 0,
      .b_ref = 0,
      .steps = {{.enzymes = {"chat"}, .leak = 0.1}},  // reactome_r_hsa_264642; leak assumed
      .extracellular_enzymes = {"ache"},             // reactome_r_hsa_264642
      .phi_ref = 0.9,    // assumed: vesicular share
      .rho = 0.0,        // assumed: no reuptake of acetylcholine
      .e_ref = 0.05,     // assumed
      .kt = 0.1,         // assumed (no transporter)
      .enzymatic = 1.0,  // reactome_r_hsa_264642: AChE clears the cleft
      .alpha = 0.2,      // assumed: autoreceptor exponent of GABA, glutamate and ACh
  };
}

}  // namespace

const std::vector<PathwaySpec>& Specs() {
  static const std::vector<PathwaySpec> specs = {SerotoninSpec(), MelatoninSpec(),   DopamineSpec(),
                                                 NoradrenalineSpec(), AdrenalineSpec(), GabaSpec(),
                                                 GlutamateSpec(), AcetylcholineSpec()};
  return specs;
}

Kinetics Kinetics::For(const PathwaySpec& spec) {
  Kinetics k;
  k.spec = &spec;
  // Reference constants with J_ref = 1: release = phi / (1 - phi rho), reuptake = rho release.
  double rel = spec.phi_ref / (1 - spec.phi_ref * spec.rho);
  double r = spec.rho * rel;
  k.vt = r * (spec.kt + spec.e_ref) / spec.e_ref;
  double k_e = (1 - spec.rho) * rel / spec.e_ref;
  k.k_enz = spec.enzymatic * k_e;
  k.k_diff = k_e - k.k_enz;
  k.u_ref = std::log(spec.e_ref);
  k.ref = SteadyState(k, Channels{});
  return k;
}

IndexValues SteadyState(const Kinetics& k, const Channels& l) {
  const PathwaySpec& spec = *k.spec;
  double j0 = DriveJ0(spec, l);
  Clearance<double> c = ClearanceAt(k, l);
  double u = SolveLogLevel(k, c, j0, k.u_ref);
  return Outputs(spec, c, j0, u);
}

IndexValues Indices(const IndexValues& raw, const IndexValues& ref) {
  IndexValues out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = ref[i] > 0 ? raw[i] / ref[i] : 1.0;
  return out;
}

PerChannel LogIndexGradient(const Kinetics& k, const Channels& l, double& u) {
  const PathwaySpec& spec = *k.spec;
  std::array<Dual, kMaxChannels> x{};
  for (size_t c = 0; c < x.size(); ++c) {
    x[c].v = l[c];
    x[c].d[c] = 1;
  }
  Dual j0 = DriveJ0(spec, x);
  Clearance<Dual> c = ClearanceAt(k, x);
  Clearance<double> values{c.phi.v, c.vmax.v, c.k_e.v, c.k_enz.v};
  u = SolveLogLevel(k, values, j0.v, u);
  // The level is defined implicitly by F(u, l) = 0, so du/dl = -(dF/dl at fixed u) / (dF/du).
  Dual fixed_u{u, {}};
  Dual f = Imbalance(k, Needed(spec, c, exp(fixed_u)), log(j0), fixed_u);
  double e = std::exp(u);
  Dual level = Chain(u, -1 / ImbalanceSlope(spec, values, e, Needed(spec, values, e)), f);
  std::array<Dual, kIndexCount> out = Outputs(spec, c, j0, level);
  PerChannel gradient{};
  for (size_t i = 0; i < out.size(); ++i)
    if (k.ref[i] > 0 && out[i].v > 0) gradient[i] = Chain(0, 1 / out[i].v, out[i]).d;  // d ln x = dx / x
  return gradient;
}

PerChannel IntegratedGradients(const Kinetics& k, const Channels& l) {
  PerChannel integral{};
  // Each point's solve starts from the previous point's level, a few Newton steps away.
  double u = k.u_ref;
  for (int q = 0; q < kGlPoints; ++q) {
    Channels at{};
    for (size_t c = 0; c < at.size(); ++c) at[c] = kGlX[q] * l[c];
    PerChannel gradient = LogIndexGradient(k, at, u);
    for (size_t i = 0; i < integral.size(); ++i)
      for (size_t c = 0; c < at.size(); ++c) integral[i][c] += kGlW[q] * gradient[i][c] * l[c];
  }
  return integral;
}

}  // namespace nflux::flux
