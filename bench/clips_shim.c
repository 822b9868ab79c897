// Internal: the C side of clips_shim.h, on CLIPS 6.30's environment API.
#include "clips_shim.h"

#include <stdlib.h>
#include <string.h>

#include "clips.h"

struct ClipsShim {
  void* env;
  char* output;  // everything CLIPS printed since the last load, for error messages
  size_t output_size, output_capacity;
};

typedef struct {
  int kind;     // enum ClipsFactKind
  void* templ;  // deftemplate
  void* slot_values[3];
  unsigned short slot_types[3];
} PreparedFact;

struct ClipsPreparedCase {
  size_t count;
  PreparedFact* facts;
};

static const char* const kSlotNames[3][3] = {{"id", "score", NULL}, {"id", "value", "status"}, {"class", NULL, NULL}};
static const char* const kTemplateNames[3] = {"symptom", "lab", "medication"};

// A router that captures every output (the load's progress marks, errors) instead of printing it.
static int CaptureQuery(void* env, const char* logical_name) {
  (void)env;
  (void)logical_name;
  return TRUE;
}

static int CapturePrint(void* env, const char* logical_name, const char* text) {
  (void)logical_name;
  ClipsShim* shim = (ClipsShim*)GetEnvironmentRouterContext(env);
  size_t length = strlen(text);
  if (shim->output_size + length + 1 > shim->output_capacity) {
    shim->output_capacity = (shim->output_size + length + 1) * 2;
    shim->output = (char*)realloc(shim->output, shim->output_capacity);
  }
  memcpy(shim->output + shim->output_size, text, length + 1);
  shim->output_size += length;
  return TRUE;
}

ClipsShim* ClipsCreate(void) {
  ClipsShim* shim = (ClipsShim*)calloc(1, sizeof(ClipsShim));
  shim->env = CreateEnvironment();
  EnvAddRouterWithContext(shim->env, "nflux-capture", 100, CaptureQuery, CapturePrint, NULL, NULL, NULL, shim);
  return shim;
}

void ClipsDestroy(ClipsShim* shim) {
  DestroyEnvironment(shim->env);
  free(shim->output);
  free(shim);
}

void ClipsClear(ClipsShim* shim) { EnvClear(shim->env); }

int ClipsLoad(ClipsShim* shim, const char* constructs) {
  shim->output_size = 0;
  if (shim->output) shim->output[0] = '\0';
  if (!OpenStringSource(shim->env, "nflux-load", constructs, 0)) return 1;
  int result = LoadConstructsFromLogicalName(shim->env, "nflux-load");
  CloseStringSource(shim->env, "nflux-load");
  return result ? 0 : 1;
}

const char* ClipsOutput(ClipsShim* shim) { return shim->output ? shim->output : ""; }

long long ClipsRunStrings(ClipsShim* shim, const char* const* facts, size_t count) {
  EnvReset(shim->env);
  for (size_t i = 0; i < count; ++i)
    if (!EnvAssertString(shim->env, facts[i])) return -1;
  return EnvRun(shim->env, -1);
}

// Interns a value and keeps it (CLIPS frees unreferenced symbols and numbers).
static void Intern(ClipsShim* shim, PreparedFact* fact, int slot, int type, const char* text, double number) {
  fact->slot_types[slot] = (unsigned short)type;
  if (type == SYMBOL) {
    fact->slot_values[slot] = EnvAddSymbol(shim->env, text);
    IncrementSymbolCount(fact->slot_values[slot]);
  } else if (type == INTEGER) {
    fact->slot_values[slot] = EnvAddLong(shim->env, (long long)number);
    IncrementIntegerCount(fact->slot_values[slot]);
  } else {
    fact->slot_values[slot] = EnvAddDouble(shim->env, number);
    IncrementFloatCount(fact->slot_values[slot]);
  }
}

ClipsPreparedCase* ClipsPrepare(ClipsShim* shim, const ClipsFactSpec* facts, size_t count) {
  ClipsPreparedCase* prepared = (ClipsPreparedCase*)calloc(1, sizeof(ClipsPreparedCase));
  prepared->count = count;
  prepared->facts = (PreparedFact*)calloc(count ? count : 1, sizeof(PreparedFact));
  for (size_t i = 0; i < count; ++i) {
    PreparedFact* fact = &prepared->facts[i];
    fact->kind = (int)facts[i].kind;
    fact->templ = EnvFindDeftemplate(shim->env, kTemplateNames[facts[i].kind]);
    Intern(shim, fact, 0, SYMBOL, facts[i].id, 0);
    if (facts[i].kind == kClipsSymptom) Intern(shim, fact, 1, INTEGER, NULL, facts[i].number);
    if (facts[i].kind == kClipsLab) {
      Intern(shim, fact, 1, FLOAT, NULL, facts[i].number);
      Intern(shim, fact, 2, SYMBOL, facts[i].status, 0);
    }
  }
  return prepared;
}

void ClipsFreePrepared(ClipsShim* shim, ClipsPreparedCase* prepared) {
  (void)shim;  // the interned values stay until the environment goes: a benchmark's lifetime
  free(prepared->facts);
  free(prepared);
}

long long ClipsRunPrepared(ClipsShim* shim, const ClipsPreparedCase* prepared) {
  EnvReset(shim->env);
  for (size_t i = 0; i < prepared->count; ++i) {
    const PreparedFact* spec = &prepared->facts[i];
    int kind = spec->kind;
    struct fact* fact = EnvCreateFact(shim->env, spec->templ);
    for (int slot = 0; slot < 3 && kSlotNames[kind][slot]; ++slot) {
      DATA_OBJECT value;
      SetType(value, spec->slot_types[slot]);
      SetValue(value, spec->slot_values[slot]);
      EnvPutFactSlot(shim->env, fact, kSlotNames[kind][slot], &value);
    }
    EnvAssert(shim->env, fact);
  }
  return EnvRun(shim->env, -1);
}

static double Number(DATA_OBJECT value) {
  return GetType(value) == INTEGER ? (double)DOToLong(value) : DOToDouble(value);
}

void ClipsConclusions(ClipsShim* shim, void (*visit)(void* context, const ClipsConclusion* conclusion), void* context) {
  const char* names[2] = {"derived", "deficit"};
  for (int deficit = 0; deficit < 2; ++deficit) {
    void* templ = EnvFindDeftemplate(shim->env, names[deficit]);
    for (void* fact = EnvGetNextFactInTemplate(shim->env, templ, NULL); fact;
         fact = EnvGetNextFactInTemplate(shim->env, templ, fact)) {
      DATA_OBJECT id, certainty;
      EnvGetFactSlot(shim->env, fact, "id", &id);
      EnvGetFactSlot(shim->env, fact, "cf", &certainty);
      ClipsConclusion conclusion = {deficit, DOToString(id), Number(certainty)};
      visit(context, &conclusion);
    }
  }
}
