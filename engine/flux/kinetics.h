// Internal to engine/flux: the kinetic model of one pathway (docs/flux-model.md, sections 2-4).
// Its constants, its steady state for given channel log factors, and the integrated gradients that
// split ln(index) between the channels. Knows nothing of cases or the knowledge graph; flux.cc maps
// those onto channels.
//
// Thread-safety: pure functions over immutable constants; safe from many threads.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "flux/flux.h"

namespace nflux::flux {

// Channels: the model parameters a pathway reads, each a log factor (0 at reference).
enum Channel {
  kDrive, kSupply, kBbb, kShunt, kRate, kCosubstrate, kVmat, kTransporter, kCytBreakdown, kExtBreakdown,
  kStep0,  // kStep0 + i: the i-th step after the rate-limiting one
};
inline constexpr int kMaxChannels = kStep0 + 4;
using Channels = std::array<double, kMaxChannels>;

// Per index (IndexNames() order): synthesis, release, reuptake, breakdown, level, turnover.
using IndexValues = std::array<double, kIndexCount>;
// Per index, one value per channel.
using PerChannel = std::array<Channels, kIndexCount>;

// One step after the rate-limiting one: the share of its substrate it converts at reference is
// 1 - leak; the rest leaves (efflux, other routes). Activity m converts m(1-leak)/(m(1-leak)+leak).
struct StepSpec {
  std::vector<std::string> enzymes;
  double leak = 0.2;
};

// The kinetic constants of one pathway (µM where a unit applies; docs/flux-model.md).
struct PathwaySpec {
  std::string name;
  std::string transmitter;   // knowledge node
  std::string pathway_node;  // knowledge node
  std::string precursor;     // knowledge node ("" when `upstream` gives the supply)
  std::string upstream;      // pathway whose synthesis index is the precursor supply
  std::vector<std::string> rate_enzymes;
  double km = 0, ki = 0, s_ref = 0;  // substrate term S/(Km + S + S^2/Ki); ki 0: none
  std::string cosubstrate;           // BH4 for the hydroxylases
  double kb = 0, b_ref = 0;
  std::vector<StepSpec> steps;
  std::vector<std::string> extracellular_enzymes;  // degrading enzymes acting outside the terminal
  double phi_ref = 0.8;   // share of cytosolic transmitter stored in vesicles (vs broken down)
  double rho = 0.9;       // share of released transmitter cleared by the reuptake transporter
  double e_ref = 0.05;    // extracellular level at reference
  double kt = 0.1;        // transporter Km
  double enzymatic = 0;   // share of non-transporter extracellular clearance that is enzymatic
  double alpha = 0.3;     // autoreceptor feedback: synthesis x (E / E_ref)^-alpha
};

// The eight pathways, in Model::Pathways() order.
const std::vector<PathwaySpec>& Specs();

// A pathway's constants in reference units (reference synthesis J_ref = 1) and its raw outputs at
// reference, by which the indices are divided.
struct Kinetics {
  const PathwaySpec* spec = nullptr;  // points into Specs()
  double vt = 0, k_diff = 0, k_enz = 0;  // transporter Vmax, diffusion and enzymatic clearance
  double u_ref = 0;                     // ln E_ref
  IndexValues ref{};

  static Kinetics For(const PathwaySpec& spec);
};

// The raw steady-state outputs (not yet relative to reference) for channel log factors `l`.
IndexValues SteadyState(const Kinetics& k, const Channels& l);

// raw / ref per index; 1.0 for an output the pathway does not have (reference 0).
IndexValues Indices(const IndexValues& raw, const IndexValues& ref);

// The exact gradient d ln(index) / d l_c at `l` (0 for an output the pathway does not have).
// `u` is ln(level) where the steady-state solve starts and, on return, its solution.
PerChannel LogIndexGradient(const Kinetics& k, const Channels& l, double& u);

// Integrated gradients along l(t) = t l: per index and channel, l_c ∫₀¹ ∂_c ln I(t l) dt, by
// 6-point Gauss-Legendre quadrature. Per index they sum to ln I(l) up to the quadrature error.
PerChannel IntegratedGradients(const Kinetics& k, const Channels& l);

}  // namespace nflux::flux
