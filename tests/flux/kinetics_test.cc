// The kinetic model's derivatives and contributions checked against plain numerics: the exact
// gradient against central differences of the steady state, and the 6-point Gauss-Legendre
// integrated gradients against a fine midpoint rule over those differences.
#include "flux/kinetics.h"

#include <cmath>

#include <gtest/gtest.h>

namespace nflux::flux {
namespace {

constexpr size_t kLevel = 4;  // IndexNames() order

// Channel vectors that move every channel a pathway reads, mild and strong.
std::vector<Channels> Scenarios() {
  Channels mild{}, strong{};
  for (size_t c = 0; c < mild.size(); ++c) {
    mild[c] = 0.4 * std::sin(1.7 * static_cast<double>(c) + 0.3);
    strong[c] = 1.5 * std::cos(0.9 * static_cast<double>(c) + 0.2);
  }
  strong[kRate] = -2.3;  // an enzyme at a tenth of its activity
  return {mild, strong};
}

IndexValues LogIndices(const Kinetics& k, const Channels& l) {
  IndexValues out = Indices(SteadyState(k, l), k.ref);
  for (double& v : out) v = std::log(v);
  return out;
}

// d ln(index) / d l_c by central differences.
PerChannel DifferenceGradient(const Kinetics& k, const Channels& l) {
  constexpr double h = 1e-5;
  PerChannel gradient{};
  for (size_t c = 0; c < l.size(); ++c) {
    Channels plus = l, minus = l;
    plus[c] += h;
    minus[c] -= h;
    IndexValues up = LogIndices(k, plus), down = LogIndices(k, minus);
    for (size_t i = 0; i < gradient.size(); ++i) gradient[i][c] = (up[i] - down[i]) / (2 * h);
  }
  return gradient;
}

TEST(FluxKinetics, GradientMatchesCentralDifferences) {
  for (const PathwaySpec& spec : Specs()) {
    Kinetics k = Kinetics::For(spec);
    for (const Channels& l : Scenarios()) {
      double u = k.u_ref;
      PerChannel exact = LogIndexGradient(k, l, u);
      EXPECT_NEAR(std::exp(u) / spec.e_ref, Indices(SteadyState(k, l), k.ref)[kLevel], 1e-12);
      PerChannel numeric = DifferenceGradient(k, l);
      for (size_t i = 0; i < exact.size(); ++i)
        for (size_t c = 0; c < l.size(); ++c)
          EXPECT_NEAR(exact[i][c], numeric[i][c], 1e-6) << spec.name << " " << IndexNames()[i] << " channel " << c;
    }
  }
}

TEST(FluxKinetics, GaussLegendreMatchesFineMidpointIntegration) {
  constexpr int kSteps = 400;
  for (const PathwaySpec& spec : Specs()) {
    Kinetics k = Kinetics::For(spec);
    for (const Channels& l : Scenarios()) {
      PerChannel reference{};
      for (int s = 0; s < kSteps; ++s) {
        double t = (s + 0.5) / kSteps;
        Channels at{};
        for (size_t c = 0; c < l.size(); ++c) at[c] = t * l[c];
        PerChannel g = DifferenceGradient(k, at);
        for (size_t i = 0; i < reference.size(); ++i)
          for (size_t c = 0; c < l.size(); ++c) reference[i][c] += g[i][c] * l[c] / kSteps;
      }
      PerChannel quadrature = IntegratedGradients(k, l);
      IndexValues total = LogIndices(k, l);
      for (size_t i = 0; i < quadrature.size(); ++i) {
        double sum = 0;
        for (size_t c = 0; c < l.size(); ++c) {
          EXPECT_NEAR(quadrature[i][c], reference[i][c], 1e-6) << spec.name << " " << IndexNames()[i] << " channel " << c;
          sum += quadrature[i][c];
        }
        EXPECT_NEAR(sum, total[i], 1e-7) << spec.name << " " << IndexNames()[i];  // completeness
      }
    }
  }
}

}  // namespace
}  // namespace nflux::flux
