/*
 * litert_client: runs a .tflite model through the LiteRT C API (CompiledModel) and prints its
 * outputs and timings as JSON.
 *
 * It is the native counterpart of the Android app's LiteRtEngine: the same model, fed int32
 * inputs bound by signature name, run by the same runtime, without the JVM. It links against the
 * libLiteRt.so that ships in the ai-edge-litert Python wheel; that wheel has no headers, so the
 * handful of C API declarations used here are written out below, as LiteRT 2.x declares them
 * in litert/c/litert_{common,environment,model,options,compiled_model,tensor_buffer}.h and
 * checked against the symbols the wheel's library exports (nm -D).
 *
 * Usage:
 *   litert_client MODEL.tflite [--input=FILE|-] [--input_names=a,b,c] [--runs=N] [--warmup=N]
 *
 * The input file (or stdin with "-") holds the int32 values (little-endian, as numpy's "<i4")
 * of each input named in --input_names, back to back in that order; each input takes as many
 * values as its tensor has elements. Default names: input_ids,attention_mask,token_type_ids.
 *
 * Build:
 *   gcc -O2 -std=c11 -o litert_client litert_client.c -L"$LITERT_DIR" -l:libLiteRt.so \
 *       -Wl,-rpath,"$LITERT_DIR"
 * where LITERT_DIR is site-packages/ai_edge_litert.
 *
 * Limits: the wheel's C library exposes no CPU options, so the thread count cannot be chosen
 * (the runtime picks it); only the first signature is run; inputs must be int32 and outputs
 * float32 (as in tfdistill's exported students).
 */
#define _POSIX_C_SOURCE 199309L

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- The LiteRT C API subset used here (declarations only; no headers ship with the wheel) -- */

typedef int LiteRtStatus; /* An enum in LiteRT; 0 is kLiteRtStatusOk. */
typedef size_t LiteRtParamIndex;
typedef int LiteRtHwAcceleratorSet;

typedef struct LiteRtEnvironmentT* LiteRtEnvironment;
typedef struct LiteRtModelT* LiteRtModel;
typedef struct LiteRtSignatureT* LiteRtSignature;
typedef struct LiteRtTensorT* LiteRtTensor;
typedef struct LiteRtOptionsT* LiteRtOptions;
typedef struct LiteRtCompiledModelT* LiteRtCompiledModel;
typedef struct LiteRtTensorBufferT* LiteRtTensorBuffer;
typedef struct LiteRtTensorBufferRequirementsT* LiteRtTensorBufferRequirements;
typedef struct LiteRtEnvOption LiteRtEnvOption; /* Only passed as NULL here. */

/*
 * LiteRtRankedTensorType is {LiteRtElementType element_type; LiteRtLayout layout;}. The layout's
 * definition has changed between LiteRT releases, so it is treated as opaque storage: the library
 * fills the struct and reads it back, and only the leading element type is looked at. The
 * storage is far larger and more aligned than any released layout needs.
 */
typedef union {
  int element_type;
  max_align_t alignment;
  unsigned char storage[512];
} LiteRtRankedTensorType;

enum { kLiteRtStatusOk = 0 };
enum { kLiteRtHwAcceleratorCpu = 1 << 0 };
enum { kLiteRtTensorBufferLockModeRead = 0, kLiteRtTensorBufferLockModeWrite = 1 };
/* LiteRtElementType mirrors TfLiteType. */
enum { kLiteRtElementTypeFloat32 = 1, kLiteRtElementTypeInt32 = 2 };

LiteRtStatus LiteRtCreateEnvironment(int num_options, const LiteRtEnvOption* options,
                                     LiteRtEnvironment* environment);
void LiteRtDestroyEnvironment(LiteRtEnvironment environment);

/* LiteRT 2.x takes the environment here; 1.x headers show (filename, model). */
LiteRtStatus LiteRtCreateModelFromFile(LiteRtEnvironment environment, const char* filename,
                                       LiteRtModel* model);
void LiteRtDestroyModel(LiteRtModel model);
LiteRtStatus LiteRtGetNumModelSignatures(LiteRtModel model, LiteRtParamIndex* num_signatures);
LiteRtStatus LiteRtGetModelSignature(LiteRtModel model, LiteRtParamIndex signature_index,
                                     LiteRtSignature* signature);
LiteRtStatus LiteRtGetSignatureKey(LiteRtSignature signature, const char** signature_key);
LiteRtStatus LiteRtGetNumSignatureInputs(LiteRtSignature signature, LiteRtParamIndex* num_inputs);
LiteRtStatus LiteRtGetSignatureInputName(LiteRtSignature signature, LiteRtParamIndex input_idx,
                                         const char** input_name);
LiteRtStatus LiteRtGetSignatureInputTensorByIndex(LiteRtSignature signature,
                                                  LiteRtParamIndex input_idx,
                                                  LiteRtTensor* tensor);
LiteRtStatus LiteRtGetNumSignatureOutputs(LiteRtSignature signature,
                                          LiteRtParamIndex* num_outputs);
LiteRtStatus LiteRtGetSignatureOutputName(LiteRtSignature signature, LiteRtParamIndex output_idx,
                                          const char** output_name);
LiteRtStatus LiteRtGetSignatureOutputTensorByIndex(LiteRtSignature signature,
                                                   LiteRtParamIndex output_idx,
                                                   LiteRtTensor* tensor);
LiteRtStatus LiteRtGetRankedTensorType(LiteRtTensor tensor,
                                       LiteRtRankedTensorType* ranked_tensor_type);

LiteRtStatus LiteRtCreateOptions(LiteRtOptions* options);
void LiteRtDestroyOptions(LiteRtOptions options);
LiteRtStatus LiteRtSetOptionsHardwareAccelerators(LiteRtOptions options,
                                                  LiteRtHwAcceleratorSet hardware_accelerators);

LiteRtStatus LiteRtCreateCompiledModel(LiteRtEnvironment environment, LiteRtModel model,
                                       LiteRtOptions compilation_options,
                                       LiteRtCompiledModel* compiled_model);
void LiteRtDestroyCompiledModel(LiteRtCompiledModel compiled_model);
LiteRtStatus LiteRtGetCompiledModelInputBufferRequirements(
    LiteRtCompiledModel compiled_model, LiteRtParamIndex signature_index,
    LiteRtParamIndex input_index, LiteRtTensorBufferRequirements* buffer_requirements);
LiteRtStatus LiteRtGetCompiledModelOutputBufferRequirements(
    LiteRtCompiledModel compiled_model, LiteRtParamIndex signature_index,
    LiteRtParamIndex output_index, LiteRtTensorBufferRequirements* buffer_requirements);
LiteRtStatus LiteRtRunCompiledModel(LiteRtCompiledModel compiled_model,
                                    LiteRtParamIndex signature_index, size_t num_input_buffers,
                                    LiteRtTensorBuffer* input_buffers, size_t num_output_buffers,
                                    LiteRtTensorBuffer* output_buffers);

LiteRtStatus LiteRtCreateManagedTensorBufferFromRequirements(
    LiteRtEnvironment env, const LiteRtRankedTensorType* tensor_type,
    LiteRtTensorBufferRequirements requirements, LiteRtTensorBuffer* buffer);
LiteRtStatus LiteRtGetTensorBufferPackedSize(LiteRtTensorBuffer tensor_buffer, size_t* size);
LiteRtStatus LiteRtLockTensorBuffer(LiteRtTensorBuffer tensor_buffer, void** host_mem_addr,
                                    int lock_mode);
LiteRtStatus LiteRtUnlockTensorBuffer(LiteRtTensorBuffer buffer);
void LiteRtDestroyTensorBuffer(LiteRtTensorBuffer buffer);

/* ---- Client --------------------------------------------------------------------------------- */

#define MAX_TENSORS 16
#define MAX_NAMES_LENGTH 1024
#define SIGNATURE_INDEX 0

#define CHECK(call)                                                                  \
  do {                                                                               \
    LiteRtStatus status_ = (call);                                                   \
    if (status_ != kLiteRtStatusOk) {                                                \
      fprintf(stderr, "litert_client: %s failed with LiteRT status %d (%s)\n", #call, \
              status_, status_name(status_));                                        \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)

typedef struct {
  const char* model_path;
  const char* input_path; /* NULL: no input file, run on zeros. "-": stdin. */
  char input_names[MAX_NAMES_LENGTH];
  int runs;
  int warmup;
} Args;

typedef struct {
  const char* name;
  LiteRtTensorBuffer buffer;
  size_t elements;
} Tensor;

typedef struct {
  LiteRtEnvironment env;
  LiteRtModel model;
  LiteRtSignature signature;
  const char* signature_key;
  LiteRtCompiledModel compiled;
  Tensor inputs[MAX_TENSORS];
  Tensor outputs[MAX_TENSORS];
  size_t num_inputs;
  size_t num_outputs;
} Client;

static const char* status_name(LiteRtStatus status) {
  /* The wheel does not export LiteRtGetStatusString; these are litert_common.h's codes. */
  switch (status) {
    case 1: return "invalid argument";
    case 2: return "memory allocation failure";
    case 3: return "runtime failure";
    case 4: return "missing input tensor";
    case 5: return "unsupported";
    case 6: return "not found";
    case 500: return "file I/O";
    case 501: return "invalid flatbuffer";
    case 502: return "dynamic loading";
    case 504: return "compilation";
    default: return "see litert_common.h";
  }
}

static void die(const char* message, const char* detail) {
  fprintf(stderr, "litert_client: %s%s\n", message, detail ? detail : "");
  exit(2);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int parse_count(const char* value, const char* flag, int minimum) {
  char* end = NULL;
  long n = strtol(value, &end, 10);
  if (*value == '\0' || *end != '\0' || n < minimum || n > 1000000) {
    fprintf(stderr, "litert_client: %s must be an integer >= %d, got '%s'\n", flag, minimum,
            value);
    exit(2);
  }
  return (int)n;
}

static Args parse_args(int argc, char** argv) {
  Args args = {NULL, NULL, "input_ids,attention_mask,token_type_ids", 1, 1};
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (strncmp(a, "--input=", 8) == 0) {
      args.input_path = a + 8;
    } else if (strncmp(a, "--input_names=", 14) == 0) {
      if (strlen(a + 14) >= MAX_NAMES_LENGTH) die("--input_names is too long", NULL);
      strcpy(args.input_names, a + 14);
    } else if (strncmp(a, "--runs=", 7) == 0) {
      args.runs = parse_count(a + 7, "--runs", 1);
    } else if (strncmp(a, "--warmup=", 9) == 0) {
      args.warmup = parse_count(a + 9, "--warmup", 1);
    } else if (a[0] == '-' && a[1] == '-') {
      die("unknown flag ", a);
    } else if (args.model_path == NULL) {
      args.model_path = a;
    } else {
      die("unexpected argument ", a);
    }
  }
  if (args.model_path == NULL) {
    die("usage: litert_client MODEL.tflite [--input=FILE|-] [--input_names=a,b,c] [--runs=N] "
        "[--warmup=N]", NULL);
  }
  return args;
}

/* How to query one side (inputs or outputs) of a signature, and what element type it must have. */
typedef struct {
  const char* what;
  LiteRtStatus (*name)(LiteRtSignature, LiteRtParamIndex, const char**);
  LiteRtStatus (*tensor)(LiteRtSignature, LiteRtParamIndex, LiteRtTensor*);
  LiteRtStatus (*requirements)(LiteRtCompiledModel, LiteRtParamIndex, LiteRtParamIndex,
                               LiteRtTensorBufferRequirements*);
  int element_type;
} Side;

static const Side kInputs = {"input", LiteRtGetSignatureInputName,
                             LiteRtGetSignatureInputTensorByIndex,
                             LiteRtGetCompiledModelInputBufferRequirements,
                             kLiteRtElementTypeInt32};
static const Side kOutputs = {"output", LiteRtGetSignatureOutputName,
                              LiteRtGetSignatureOutputTensorByIndex,
                              LiteRtGetCompiledModelOutputBufferRequirements,
                              kLiteRtElementTypeFloat32};

/* Creates host buffers for one side's tensors, sized and typed as the compiled model wants. */
static void make_tensors(Client* c, const Side* side, Tensor* tensors, size_t count) {
  for (size_t i = 0; i < count; i++) {
    const char* name = NULL;
    LiteRtTensor tensor = NULL;
    LiteRtTensorBufferRequirements req = NULL;
    LiteRtRankedTensorType type;
    memset(&type, 0, sizeof(type));
    CHECK(side->name(c->signature, i, &name));
    CHECK(side->tensor(c->signature, i, &tensor));
    CHECK(side->requirements(c->compiled, SIGNATURE_INDEX, i, &req));
    CHECK(LiteRtGetRankedTensorType(tensor, &type));
    if (type.element_type != side->element_type) {
      fprintf(stderr, "litert_client: %s '%s' has element type %d; expected %s\n", side->what,
              name, type.element_type,
              side->element_type == kLiteRtElementTypeInt32 ? "int32" : "float32");
      exit(2);
    }
    tensors[i].name = name;
    CHECK(LiteRtCreateManagedTensorBufferFromRequirements(c->env, &type, req, &tensors[i].buffer));
    size_t bytes = 0;
    CHECK(LiteRtGetTensorBufferPackedSize(tensors[i].buffer, &bytes));
    tensors[i].elements = bytes / 4; /* int32 and float32 alike. */
  }
}

/* Loads the model, compiles it for the CPU and creates one buffer per signature tensor. */
static void client_open(Client* c, const char* model_path) {
  memset(c, 0, sizeof(*c));
  CHECK(LiteRtCreateEnvironment(0, NULL, &c->env));
  CHECK(LiteRtCreateModelFromFile(c->env, model_path, &c->model));
  LiteRtParamIndex num_signatures = 0;
  CHECK(LiteRtGetNumModelSignatures(c->model, &num_signatures));
  if (num_signatures == 0) {
    die("the model has no signature; export it with named inputs (a concrete function)", NULL);
  }
  CHECK(LiteRtGetModelSignature(c->model, SIGNATURE_INDEX, &c->signature));
  CHECK(LiteRtGetSignatureKey(c->signature, &c->signature_key));

  LiteRtOptions options = NULL;
  CHECK(LiteRtCreateOptions(&options));
  CHECK(LiteRtSetOptionsHardwareAccelerators(options, kLiteRtHwAcceleratorCpu));
  CHECK(LiteRtCreateCompiledModel(c->env, c->model, options, &c->compiled));
  LiteRtDestroyOptions(options);

  CHECK(LiteRtGetNumSignatureInputs(c->signature, &c->num_inputs));
  CHECK(LiteRtGetNumSignatureOutputs(c->signature, &c->num_outputs));
  if (c->num_inputs > MAX_TENSORS || c->num_outputs > MAX_TENSORS) {
    die("the model has more tensors than this client supports", NULL);
  }
  make_tensors(c, &kInputs, c->inputs, c->num_inputs);
  make_tensors(c, &kOutputs, c->outputs, c->num_outputs);
}

static void client_close(Client* c) {
  for (size_t i = 0; i < c->num_inputs; i++) LiteRtDestroyTensorBuffer(c->inputs[i].buffer);
  for (size_t i = 0; i < c->num_outputs; i++) LiteRtDestroyTensorBuffer(c->outputs[i].buffer);
  LiteRtDestroyCompiledModel(c->compiled);
  LiteRtDestroyModel(c->model);
  LiteRtDestroyEnvironment(c->env);
}

static Tensor* find_input(Client* c, const char* name) {
  for (size_t i = 0; i < c->num_inputs; i++) {
    if (strcmp(c->inputs[i].name, name) == 0) return &c->inputs[i];
  }
  return NULL;
}

/*
 * Fills the inputs from the file, binding by name: the signature lists inputs sorted by name,
 * which is not the order the caller wrote them in. Inputs not read stay zero.
 */
static void load_inputs(Client* c, const Args* args) {
  for (size_t i = 0; i < c->num_inputs; i++) {
    void* host = NULL;
    CHECK(LiteRtLockTensorBuffer(c->inputs[i].buffer, &host, kLiteRtTensorBufferLockModeWrite));
    memset(host, 0, c->inputs[i].elements * sizeof(int32_t));
    CHECK(LiteRtUnlockTensorBuffer(c->inputs[i].buffer));
  }
  if (args->input_path == NULL) return;

  FILE* in = strcmp(args->input_path, "-") == 0 ? stdin : fopen(args->input_path, "rb");
  if (in == NULL) die("cannot open input file ", args->input_path);
  char names[MAX_NAMES_LENGTH];
  strcpy(names, args->input_names);
  for (char* name = strtok(names, ","); name != NULL; name = strtok(NULL, ",")) {
    Tensor* t = find_input(c, name);
    if (t == NULL) die("the model's signature has no input named ", name);
    void* host = NULL;
    CHECK(LiteRtLockTensorBuffer(t->buffer, &host, kLiteRtTensorBufferLockModeWrite));
    size_t read = fread(host, sizeof(int32_t), t->elements, in);
    CHECK(LiteRtUnlockTensorBuffer(t->buffer));
    if (read != t->elements) die("the input file ends before all values of ", name);
  }
  if (fgetc(in) != EOF) die("the input file has more values than the named inputs take", NULL);
  if (in != stdin) fclose(in);
}

static void run_once(Client* c) {
  LiteRtTensorBuffer inputs[MAX_TENSORS];
  LiteRtTensorBuffer outputs[MAX_TENSORS];
  for (size_t i = 0; i < c->num_inputs; i++) inputs[i] = c->inputs[i].buffer;
  for (size_t i = 0; i < c->num_outputs; i++) outputs[i] = c->outputs[i].buffer;
  CHECK(LiteRtRunCompiledModel(c->compiled, SIGNATURE_INDEX, c->num_inputs, inputs,
                               c->num_outputs, outputs));
}

static int compare_doubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static void print_json_string(const char* s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    putchar(*s);
  }
  putchar('"');
}

static void print_report(Client* c, const Args* args, double init_ms, double first_ms,
                         double* timings) {
  printf("{\"model\": ");
  print_json_string(args->model_path);
  printf(", \"signature\": ");
  print_json_string(c->signature_key);
  printf(", \"outputs\": {");
  for (size_t i = 0; i < c->num_outputs; i++) {
    void* host = NULL;
    CHECK(LiteRtLockTensorBuffer(c->outputs[i].buffer, &host, kLiteRtTensorBufferLockModeRead));
    const float* values = (const float*)host;
    printf("%s", i ? ", " : "");
    print_json_string(c->outputs[i].name);
    printf(": [");
    /* %.9g round-trips every float32 exactly. */
    for (size_t j = 0; j < c->outputs[i].elements; j++) {
      printf("%s%.9g", j ? ", " : "", values[j]);
    }
    printf("]");
    CHECK(LiteRtUnlockTensorBuffer(c->outputs[i].buffer));
  }
  double sum = 0;
  for (int i = 0; i < args->runs; i++) sum += timings[i];
  qsort(timings, (size_t)args->runs, sizeof(double), compare_doubles);
  printf("}, \"init_ms\": %.6f, \"first_inference_ms\": %.6f, \"warmup_runs\": %d,"
         " \"runs\": %d, \"latency_ms\": {\"mean\": %.6f, \"min\": %.6f, \"median\": %.6f,"
         " \"max\": %.6f}}\n",
         init_ms, first_ms, args->warmup, args->runs, sum / args->runs, timings[0],
         timings[args->runs / 2], timings[args->runs - 1]);
}

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  Client client;

  double start = now_ms();
  client_open(&client, args.model_path);
  double init_ms = now_ms() - start;
  load_inputs(&client, &args);

  /* As benchmark_model: the first run pays one-off costs and is reported on its own. */
  start = now_ms();
  run_once(&client);
  double first_ms = now_ms() - start;
  for (int i = 1; i < args.warmup; i++) run_once(&client);

  double* timings = malloc(sizeof(double) * (size_t)args.runs);
  if (timings == NULL) die("out of memory", NULL);
  for (int i = 0; i < args.runs; i++) {
    start = now_ms();
    run_once(&client);
    timings[i] = now_ms() - start;
  }
  print_report(&client, &args, init_ms, first_ms, timings);
  free(timings);
  client_close(&client);
  return 0;
}
