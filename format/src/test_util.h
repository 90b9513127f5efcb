// What the format tests share: temporary files, a sample snapshot with every kind of record,
// and a reader that gathers everything a SnapshotReader hands out.
#ifndef HEAPSNAP_FORMAT_SRC_TEST_UTIL_H_
#define HEAPSNAP_FORMAT_SRC_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "heapsnap/format/byte_source.h"
#include "heapsnap/format/reader.h"
#include "heapsnap/format/writer.h"

namespace heapsnap::format_test {

std::string TempPath(const std::string& name);
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);
// The names in path's directory that start with path's last component.
std::vector<std::string> FilesStartingWith(const std::string& path);

HeaderInfo TestHeader();

// Everything a reader hands out, gathered for comparison.
struct Contents {
  HeaderInfo header;
  std::vector<ObjectRecord> objects;
  std::vector<std::vector<EdgeRecord>> edges;
  std::vector<ValueRecord> values;
  std::vector<NameRecord> names;
  std::vector<RootRecord> roots;
  std::vector<SizeFixup> fixups;
  std::vector<std::string> strings;
  std::vector<TypeRecord> types;
  TrailerInfo trailer;
};
Status ReadAll(const std::string& path, Contents* out);
Status ReadAll(std::unique_ptr<ByteSource> source, Contents* out);

// Writes a small snapshot with every kind of record; returns the path.
std::string WriteSample(const std::string& name, SnapshotWriter::Options options = {},
                        size_t list_items = 3);

// Reading path fails with a message that names the file and contains fragment.
void ExpectRejected(const std::string& path, const std::string& fragment);

}  // namespace heapsnap::format_test

#endif  // HEAPSNAP_FORMAT_SRC_TEST_UTIL_H_
