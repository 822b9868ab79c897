// KnowledgeBase::FromParts: a knowledge base made again from validated parts (engine/snapshot).
#include "knowledge/knowledge.h"

namespace nflux::knowledge {

std::shared_ptr<const KnowledgeBase> KnowledgeBase::FromParts(Parts parts) {
  auto kb = std::make_shared<KnowledgeBase>();
  kb->nodes_ = std::move(parts.nodes);
  kb->edges_ = std::move(parts.edges);
  kb->citations_ = std::move(parts.citations);
  kb->first_line_labs_ = std::move(parts.first_line_labs);
  kb->version_ = std::move(parts.version);
  // The converters are a cache, not content: made as the builder makes them (ParseLab).
  for (auto& node : kb->nodes_)
    if (node.lab) node.lab->to_canonical = std::make_shared<const units::CanonicalConverters>(node.lab->analyte);
  kb->BuildIndexes();
  return kb;
}

}  // namespace nflux::knowledge
