// Internal: the schema of the knowledge files (names of kinds and edge types, which kinds each
// edge type may connect, default signs, the fields each node kind may carry).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "knowledge/knowledge.h"

namespace nflux::knowledge {

struct EdgeRule {
  EdgeType type;
  std::set<NodeKind> from;
  std::set<NodeKind> to;
  int default_sign;
  bool influence;  // followed by influence paths
};
const EdgeRule& RuleFor(EdgeType type);

// Fields a node of `kind` may carry beyond the common ones.
const std::set<std::string>& FieldsFor(NodeKind kind);
// Kinds whose nodes must cite a source.
bool KindNeedsCitation(NodeKind kind);
std::string KindList(const std::set<NodeKind>& kinds);

}  // namespace nflux::knowledge
