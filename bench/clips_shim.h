// Internal: a small C interface to CLIPS 6.30 for the side-by-side benchmark (clips_bench.cc).
// CLIPS's headers are C (and not C++-clean), so only clips_shim.c includes them. One environment
// per handle; not thread-safe (neither is CLIPS's output capture here): one thread only.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ClipsShim ClipsShim;

// One fact of a case, prepared: its symbols and numbers interned once, asserted through the C API
// (no parsing) for the "evaluation alone" measurement.
enum ClipsFactKind { kClipsSymptom, kClipsLab, kClipsMedication };
typedef struct {
  enum ClipsFactKind kind;
  const char* id;      // symptom or lab id; medication: the class
  double number;       // symptom: the score (an integer); lab: the value
  const char* status;  // lab: low | normal | high | unknown
} ClipsFactSpec;
typedef struct ClipsPreparedCase ClipsPreparedCase;

// One concluded fact or deficit, as read back from CLIPS's working memory.
typedef struct {
  int deficit;  // 0: a derived fact; 1: a deficit
  const char* id;
  double certainty;
} ClipsConclusion;

ClipsShim* ClipsCreate(void);
void ClipsDestroy(ClipsShim* shim);
// Clears the environment (every construct and fact), untimed preparation for a load.
void ClipsClear(ClipsShim* shim);
// Loads constructs (deftemplate, defrule ...) from text. Returns 0 on success; on failure the
// output CLIPS printed is in ClipsOutput().
int ClipsLoad(ClipsShim* shim, const char* constructs);
const char* ClipsOutput(ClipsShim* shim);

// Evaluation from case text: reset, assert each fact from its string, run. Returns the number of
// rules fired, or -1 when a string does not assert.
long long ClipsRunStrings(ClipsShim* shim, const char* const* facts, size_t count);

ClipsPreparedCase* ClipsPrepare(ClipsShim* shim, const ClipsFactSpec* facts, size_t count);
void ClipsFreePrepared(ClipsShim* shim, ClipsPreparedCase* prepared);
// Evaluation alone: reset, assert the prepared facts through the C API, run. Returns firings.
long long ClipsRunPrepared(ClipsShim* shim, const ClipsPreparedCase* prepared);

// Calls `visit` for every `derived` and `deficit` fact in working memory (after a run).
void ClipsConclusions(ClipsShim* shim, void (*visit)(void* context, const ClipsConclusion* conclusion), void* context);

#ifdef __cplusplus
}
#endif
