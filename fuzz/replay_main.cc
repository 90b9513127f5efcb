// Replays inputs through the fuzz target's entry point without libFuzzer, with any compiler: the
// regression snapshots (tests/regressions/, every crash the fuzzer or a user ever found) run
// through exactly what the fuzzer runs, in the regular build and under the sanitizers.
//
//   snapshot_replay FILE...     exit 0 when every file was taken without a crash
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "snapshot_replay: cannot read %s\n", argv[i]);
      return 2;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "snapshot_replay: %s (%zu bytes)\n", argv[i], bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  return 0;
}
